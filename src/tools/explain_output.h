// explain_output.h — the last stage of `explain`: each explained batch's files and lines (internal).
//
// Per explanation, into the output folder (STEM = the image's file name without extension, plus _cCLASS
// when an image has several targets; a repeated STEM gets _2, _3, …): STEM_gradcam.png (the heatmap),
// STEM_overlay.png, and STEM_counterfactual.png, STEM_guided.png, STEM_guided_gradcam.png,
// STEM_deconvnet.png as asked, with --maps STEM_gradcam.npy (the map, float32); one JSON line, kept for
// results.jsonl (and printed with --json), and otherwise one summary line on stdout.
//
// The pictures come made by the explanation pass (cam::Pictures), where its tensors were. A batch's
// files are encoded in memory in parallel (PNG, .npy) and then written one after another, in order, into
// a private staging folder inside the output folder (.explain-partial-XXXXXX). finish() moves them into
// place and writes results.jsonl; a run that fails before then leaves the output folder as it found it:
// the staging folder is removed, so are the folders the run created, and a previous run's files of the
// same names are untouched (so its results.jsonl still names files that exist).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "gcam/colormap.h"
#include "gcam/explain.h"
#include "gcam/image.h"

namespace gcam::tools {

struct OutputSettings {
  std::string folder;
  std::string arch, layer;           // named in each JSON line
  std::vector<std::string> methods;  // as asked, named in each JSON line
  bool gradcam = true, counterfactual = false, guided = false, guided_gradcam = false, deconvnet = false;
  bool maps = false;                      // the Grad-CAM maps as .npy (they must be on the host)
  cam::Colormap colormap = cam::Colormap::Jet;
  float alpha = 0.5f;                     // the heatmap's weight in the overlay
  int64_t num_classes = 0;
  std::vector<std::string> class_names;   // the checkpoint's own; ImageNet's are used for 1000 classes
  bool json = false;                      // JSON lines on stdout instead of summaries
  size_t total_images = 0;
  bool progress = false;                  // a progress bar on stderr
};

// One explained batch: images[n] was explained as result.images[n] (one or more targets).
struct ExplainedBatch {
  std::vector<std::string> paths;     // the image files
  std::vector<image::Image> views;    // what the network saw, for the overlays
  cam::BatchExplanation result;
  double decode_ms = 0;
};

class OutputStage {
 public:
  explicit OutputStage(OutputSettings settings);  // creates the folder and the staging folder inside it
  ~OutputStage();  // unless finish() ran: removes the staging folder and the folders it created
  OutputStage(const OutputStage&) = delete;
  OutputStage& operator=(const OutputStage&) = delete;

  // Batches must come in order; InputError (naming the file) when one cannot be written.
  void write(const ExplainedBatch& batch);
  // Moves every file into place, then writes results.jsonl; after this the files stay.
  void finish();

 private:
  OutputSettings settings_;
  std::vector<std::string> created_;   // the folders this run made, outermost first
  std::string staging_;                // the private folder the files are written to first
  std::vector<std::pair<std::string, std::string>> written_;  // every file written: (staged, final path)
  std::string results_;               // the JSON lines so far
  std::map<std::string, int> stems_;  // how often each STEM was used
  size_t done_ = 0;                   // images written
  bool finished_ = false;
};

}  // namespace gcam::tools
