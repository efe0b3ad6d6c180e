// explain — Grad-CAM, guided backprop and Guided Grad-CAM for images, from the command line.
//
//   explain examples/canvases/*.png                          (the shipped model: weights/fashion_resnet.safetensors)
//   explain --weights resnet50-0676ba61.pth cat.jpg dog.png  (any torchvision VGG or ResNet checkpoint)
// writes, per image and explained class, a heatmap, an overlay, guided backprop and Guided Grad-CAM (with
// --maps also the map as float32 .npy) into --out, and one JSON line (top-k classes, explained class, layer, box,
// timings) to <out>/results.jsonl (and stdout with --json). Run `explain --help` for every option.
#include <strings.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <omp.h>

#include "gcam/classes.h"
#include "gcam/colormap.h"
#include "cli.h"
#include "host_memory.h"
#include "explain_output.h"
#include "gcam/error.h"
#include "gcam/explain.h"
#include "gcam/gradcam_graph.h"
#include "gcam/image.h"
#include "gcam/manifest.h"
#include "gcam/model_card.h"
#include "gcam/models.h"
#include "gcam/weights.h"
#include "../cuda/pinned_buffer.h"

using namespace gcam;
namespace fs = std::filesystem;

namespace {

const char* kHelp = R"(usage: explain [options] IMAGE...   (PNG, JPEG or GIF)

Explains a classifier's decision on each image with Grad-CAM (Selvaraju et al., arXiv 1610.02391),
guided backprop and Guided Grad-CAM, on torchvision's VGG and ResNet models and on gcam's own model.

Model
  --weights FILE      checkpoint: PyTorch .pth (zip or legacy) or .safetensors (default: the shipped model,
                      weights/fashion_resnet.safetensors: a ResNet gcam trained on 64×64 cluttered
                      Fashion-MNIST canvases; weights/fetch.sh downloads torchvision's ImageNet models)
  --model ARCH        vgg11 … vgg19_bn, resnet18 … resnet152, fashion_resnet, fashion_vgg (default: the file's
                      gcam.architecture metadata, or the manifest entry for an official file name)
  --classes N         number of classes (default: read from the checkpoint)
  --layer PATH        target layer, a torchvision path: features.29, layer4, layer4.2.conv3 … (default:
                      the last convolutional stage: features.29 for VGG-16, layer4 for ResNets)
  --list-layers       print the model's layer paths and exit
What to explain
  --class C[,C…]      class index or name ("tabby", 281; "Sneaker" for the shipped model); one for all
                      images or one per image
  --topk K            explain each image's K highest-scoring classes (default 1: the top class)
  --method M[,M…]     gradcam, counterfactual, guided, deconvnet, guided-gradcam, all
                      (default: gradcam,guided,guided-gradcam)
Input
  --preprocess P      imagenet (resize shorter side, centre-crop, mean/std; default) or none (the image
                      is already the network input; only /255 and mean/std). Crop, mean and std are
                      the checkpoint's own when it names them (the shipped model: 64, 0.5, 0.25), else
                      ImageNet's (224 and its mean/std)
  --resize N          shorter side before the crop (default: the checkpoint's gcam.resize; 232 for V2
                      ResNet weights; else 256)
  --batch N           images per forward pass (default 8)
  --max-pixels N      refuse larger images before decoding them (default 67108864 = 2^26, 8192×8192:
                      a picture of at most 200 MB; up to 2^30)
Output
  --out DIR           output folder (default: out)
  --colormap NAME     jet (default), hot, cool, gray
  --alpha A           heatmap weight in the overlay, 0…1 (default 0.5)
  --maps              also write each Grad-CAM map (normalised, at the input size) as float32 .npy; with
                      --device cuda only then do the maps leave the GPU (the pictures and boxes are
                      made there)
  --json              print the JSON lines to stdout (instead of one summary line per explanation)
  --trace             print each layer's output shape and time, forward and backward, and where the
                      Grad-CAM backward pass stopped
Run
  --threads N         CPU threads (default: all cores)
  --device D          cpu (default) or cuda: the forward and backward passes on the GPU
  --tf32              with --device cuda: allow TF32 tensor-core math (default: exact FP32)
  --help              this text

Outputs per image (STEM = the image's file name without extension, plus _cCLASS with --topk > 1;
a repeated STEM gets _2, _3, …): STEM_gradcam.png (heatmap), STEM_overlay.png, STEM_guided.png,
STEM_guided_gradcam.png, STEM_counterfactual.png, STEM_deconvnet.png (when asked), STEM_gradcam.npy
(with --maps: the float32 map at input resolution), and a line in results.jsonl.
Exit status: 0 success; 2 bad usage or bad input (one line on stderr naming the file and the problem;
nothing written is left behind); 1 internal error.
)";

struct DecodedBatch {
  std::vector<image::Image> views;  // each image as the network sees it (resized, cropped)
  Tensor input;                     // (N, 3, H, W), normalised
  cuda::PinnedBuffer* staged = nullptr;  // with --device cuda: a page-locked copy of input, ready to upload
  double decode_ms = 0;
};

struct Options {
  std::string weights, model, layer, out = "out", preprocess = "imagenet", device = "cpu", colormap = "jet";
  std::vector<std::string> classes, methods = {"gradcam", "guided", "guided-gradcam"}, images;
  int64_t num_classes = 0, topk = 1, batch = 8, resize = 0, threads = 0, max_pixels = image::kDefaultMaxPixels;
  float alpha = 0.5f;
  bool json = false, trace = false, list_layers = false, tf32 = false, maps = false;
};

[[noreturn]] void usage(const std::string& message) { tools::usage_error("explain", message); }

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::stringstream in(s);
  std::string part;
  while (std::getline(in, part, sep))
    if (!part.empty()) parts.push_back(part);
  return parts;
}

Options parse(int argc, char** argv) {
  Options o;
  for (tools::Arguments args("explain", argc, argv); args.next();) {
    if (args.is("--help") || args.is("-h")) { std::fputs(kHelp, stdout); std::exit(0); }
    else if (args.is("--weights")) o.weights = args.value();
    else if (args.is("--model")) o.model = args.value();
    else if (args.is("--classes")) o.num_classes = args.integer(1, models::kMaxClasses);
    else if (args.is("--layer")) o.layer = args.value();
    else if (args.is("--list-layers")) o.list_layers = true;
    else if (args.is("--class")) o.classes = split(args.value(), ',');
    else if (args.is("--topk")) o.topk = args.integer(1, 1000);
    else if (args.is("--method")) o.methods = split(args.value(), ',');
    else if (args.is("--preprocess")) o.preprocess = args.value();
    else if (args.is("--resize")) o.resize = args.integer(16, 4096);
    else if (args.is("--max-pixels")) o.max_pixels = args.integer(1, image::kMaxPixels);
    else if (args.is("--batch")) o.batch = args.integer(1, 4096);
    else if (args.is("--out")) o.out = args.value();
    else if (args.is("--colormap")) o.colormap = args.value();
    else if (args.is("--alpha")) o.alpha = args.number(0.0f, 1.0f);
    else if (args.is("--json")) o.json = true;
    else if (args.is("--maps")) o.maps = true;
    else if (args.is("--trace")) o.trace = true;
    else if (args.is("--threads")) o.threads = args.integer(1, 1024);
    else if (args.is("--device")) o.device = args.value();
    else if (args.is("--tf32")) o.tf32 = true;
    else if (args.is_option()) args.reject();
    else o.images.push_back(args.current());
  }
  if (o.device != "cpu" && o.device != "cuda") usage("--device must be cpu or cuda");
  if (o.device == "cuda" && !cuda_available())
    throw InputError("--device cuda: the CUDA backend is not available here (no CUDA device, or gcam was built "
                     "without CUDA); use --device cpu");
  if (o.tf32 && o.device != "cuda") usage("--tf32 needs --device cuda");
  if (o.preprocess != "imagenet" && o.preprocess != "none") usage("--preprocess must be imagenet or none");
  cam::Colormap unused;
  if (!cam::parse_colormap(o.colormap, &unused)) usage("unknown colormap '" + o.colormap + "' (jet, hot, cool, gray)");
  for (const std::string& m : o.methods)
    if (m != "gradcam" && m != "counterfactual" && m != "guided" && m != "deconvnet" && m != "guided-gradcam" && m != "all")
      usage("unknown method '" + m + "'");
  if (!o.classes.empty() && o.topk > 1) usage("--class and --topk exclude each other");
  return o;
}

// A class given by name: the checkpoint's names (any case), or ImageNet's for 1000 classes; −1 if unknown.
int64_t class_by_name(const std::string& name, int64_t num_classes, const std::vector<std::string>& names) {
  if (static_cast<int64_t>(names.size()) == num_classes) {
    for (size_t i = 0; i < names.size(); ++i)
      if (strcasecmp(names[i].c_str(), name.c_str()) == 0) return static_cast<int64_t>(i);
    return -1;
  }
  return num_classes == 1000 ? imagenet_class_index(name) : -1;
}

int run(const Options& o) {
  if (o.threads > 0) omp_set_num_threads(static_cast<int>(o.threads));
  const std::string weights_path = o.weights.empty() ? default_weights_path() : o.weights;
  auto checkpoint = weights::Checkpoint::open(weights_path);
  const OfficialWeights* official = official_weights_for_file(weights_path);
  const ModelCard card = read_model_card(*checkpoint);
  std::string arch = o.model;
  if (arch.empty()) arch = card.architecture;
  if (arch.empty() && official) arch = official->architecture;
  if (arch.empty()) throw InputError(weights_path + ": cannot tell the architecture; say --model");
  int64_t num_classes = o.num_classes;
  if (num_classes == 0) {  // the classifier's output rows
    for (const char* head : {"fc.weight", "classifier.6.weight", "head.fc.weight", "module.fc.weight", "module.classifier.6.weight"})
      if (const auto* t = checkpoint->find(head); t && !t->shape.empty()) num_classes = t->shape[0];
    if (num_classes == 0) num_classes = 1000;
    if (num_classes > models::kMaxClasses)
      throw InputError(weights_path + ": a classifier of " + std::to_string(num_classes) + " classes (at most " +
                       std::to_string(models::kMaxClasses) + ")");
  }
  auto model = models::make_model(arch, num_classes);
  if (o.list_layers) {
    for (const auto& layer : model->layers())
      std::printf("%-28s %s%s\n", layer.path.c_str(), layer.kind.c_str(),
                  layer.path == model->default_target_layer() ? "   (default)" : "");
    return 0;
  }
  if (o.images.empty()) usage("no images given");
  const std::string layer = o.layer.empty() ? model->default_target_layer() : o.layer;
  if (!model->has_layer(layer))
    throw InputError("unknown layer '" + layer + "' for " + arch + " (list them with --list-layers)");
  models::load_weights(*model, *checkpoint);
  checkpoint.reset();
  const Device device = o.device == "cuda" ? Device::CUDA : Device::CPU;
  if (device == Device::CUDA) {
    set_cuda_tf32(o.tf32);
    model->to(Device::CUDA);
  }

  // Targets: explicit classes (one for all, or one per image), or the top-k ranks.
  std::vector<int64_t> explicit_classes;
  for (const std::string& c : o.classes) {
    char* end = nullptr;
    const long long v = std::strtoll(c.c_str(), &end, 10);
    const int64_t index = (!c.empty() && !*end) ? v : class_by_name(c, num_classes, card.class_names);
    if (index < 0 || index >= num_classes)
      throw InputError("unknown class '" + c + "' (an index below " + std::to_string(num_classes) + " or one of the model's class names)");
    explicit_classes.push_back(index);
  }
  if (explicit_classes.size() > 1 && explicit_classes.size() != o.images.size())
    throw InputError(std::to_string(explicit_classes.size()) + " classes for " + std::to_string(o.images.size()) +
                     " images: give one class, or one per image");

  image::Preprocess pre = card.preprocess;  // ImageNet's unless the checkpoint names its own
  pre.resize_and_crop = o.preprocess == "imagenet";
  if (o.resize) pre.resize = o.resize;
  else if (!card.has_preprocess && official) pre.resize = official->resize;
  cam::ExplainOptions eo;
  eo.layer = layer;
  auto wants = [&](const char* m) { return std::count(o.methods.begin(), o.methods.end(), m) || std::count(o.methods.begin(), o.methods.end(), "all"); };
  eo.gradcam = wants("gradcam") || wants("guided-gradcam");
  eo.counterfactual = wants("counterfactual");
  eo.guided = wants("guided") || wants("guided-gradcam");
  eo.deconvnet = wants("deconvnet");
  // Only the pictures, boxes and scores leave the GPU, and the maps when --maps asks for them.
  eo.maps_to_host = o.maps;
  eo.gradients_to_host = false;
  tools::OutputSettings out;
  out.folder = o.out;
  out.arch = arch;
  out.layer = layer;
  out.methods = o.methods;
  out.gradcam = eo.gradcam;
  out.counterfactual = eo.counterfactual;
  out.guided = wants("guided");
  out.guided_gradcam = wants("guided-gradcam");
  out.deconvnet = eo.deconvnet;
  out.maps = o.maps && eo.gradcam;
  cam::parse_colormap(o.colormap, &out.colormap);
  out.alpha = o.alpha;
  eo.pictures.colormap = out.colormap;  // the heatmaps and overlays are coloured where the maps are made
  eo.pictures.alpha = out.alpha;
  out.num_classes = num_classes;
  out.class_names = card.class_names;
  out.json = o.json;
  out.total_images = o.images.size();
  out.progress = isatty(STDERR_FILENO) && o.images.size() > static_cast<size_t>(o.batch);
  tools::OutputStage output(out);  // src/tools/explain_output.h
  // With --device cuda, decoding and preprocessing of batch k + 1 run on a second thread while batch k is
  // explained on the GPU. On the CPU they run in turn (deferred): a second thread there competes with the
  // explanation for the cores (measured, 512 canvases, batch 32, 2 cores, 4 alternating runs each: median
  // 3.92 s with the thread, 3.69 s without).
  // Either way a bad file stops the run when its batch comes up. On the GPU each batch is uploaded from
  // one of two page-locked buffers (src/cuda/pinned_buffer.h): the copy is queued and the host goes on.
  std::array<std::unique_ptr<cuda::PinnedBuffer>, 2> staging;
  auto decode = [&](size_t first) {
    DecodedBatch b;
    const auto t0 = std::chrono::steady_clock::now();
    const size_t count = std::min<size_t>(o.batch, o.images.size() - first);
    // The images of a batch are decoded side by side (a decoder works on one image with one thread, and a
    // photo's JPEG is most of its preparation); one image alone keeps the resize's own threads. Of
    // several bad files, the first in order is reported.
    b.views.resize(count);
    std::vector<std::exception_ptr> errors(count);
#pragma omp parallel for schedule(dynamic) if (count > 1)
    for (size_t i = 0; i < count; ++i) {
      try {
        b.views[i] = image::network_view(image::read_image(o.images[first + i], o.max_pixels), pre);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
    for (const std::exception_ptr& e : errors)
      if (e) std::rethrow_exception(e);
    b.input = image::to_input(b.views, pre);
    if (device == Device::CUDA) {
      // Into page-locked slot k mod 2, once the GPU has read batch k − 2 from it.
      std::unique_ptr<cuda::PinnedBuffer>& slot = staging[(first / o.batch) % 2];
      if (slot) slot->wait_until_read();
      if (!slot || slot->size() < b.input.numel()) slot = std::make_unique<cuda::PinnedBuffer>(b.input.numel());
      std::memcpy(slot->data(), b.input.data(), static_cast<size_t>(b.input.numel()) * sizeof(float));
      b.staged = slot.get();
    }
    b.decode_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return b;
  };
  // Grad-CAM on the GPU, alone or with guided backprop and Guided Grad-CAM (the default methods), one
  // class per image, no trace: each batch shape's whole step is captured once as a CUDA graph and
  // replayed (gcam/gradcam_graph.h).
  const bool use_graph = device == Device::CUDA && eo.gradcam && !eo.counterfactual && !eo.deconvnet && !o.trace &&
                         o.topk == 1;
  std::map<std::vector<int64_t>, std::unique_ptr<cam::GradcamGraph>> graphs;  // (N, H, W) → graph
  const std::launch prefetch = device == Device::CUDA ? std::launch::async : std::launch::deferred;
  std::future<DecodedBatch> next = std::async(prefetch, decode, size_t{0});
  // Batch k's files and lines are written after batch k + 1 is queued: with --device cuda on a second
  // thread, while the host would only wait for the GPU; on the CPU in turn (deferred: run at the next
  // get()), since there the writer's threads and the explanation's compete for the cores (measured, 512
  // canvases, 6 alternating runs each: median 3.13 s on a second thread, 2.82 s in turn, 2.78 s before
  // this pipeline).
  const std::launch write_policy = device == Device::CUDA ? std::launch::async : std::launch::deferred;
  std::future<void> writing;  // declared after `output`, so destroyed first: a running write ends before the clean-up
  for (size_t first = 0; first < o.images.size(); first += o.batch) {
    const size_t count = std::min<size_t>(o.batch, o.images.size() - first);
    DecodedBatch batch = next.get();
    // Queued before the next batch's decode starts: that one fills the other slot.
    const Tensor input = batch.staged ? batch.staged->upload(batch.input.shape()) : batch.input;
    if (first + o.batch < o.images.size()) next = std::async(prefetch, decode, first + o.batch);
    std::vector<std::vector<int64_t>> targets(count);
    for (size_t i = 0; i < count; ++i) {
      if (!explicit_classes.empty()) targets[i] = {explicit_classes.size() == 1 ? explicit_classes[0] : explicit_classes[first + i]};
      else for (int64_t r = 1; r <= o.topk; ++r) targets[i].push_back(-r);
    }
    cam::BatchExplanation result;
    cam::Pictures pictures = eo.pictures;
    pictures.images = &batch.views;
    if (use_graph) {
      std::unique_ptr<cam::GradcamGraph>& graph = graphs[{input.size(0), input.size(2), input.size(3)}];
      if (!graph)  // drawing every picture inside the graph (the maps' in the launch that upsamples them)
        graph = std::make_unique<cam::GradcamGraph>(*model, input.size(0), input.size(2), input.size(3), layer,
                                                    cam::GraphPictures{true, out.colormap, out.alpha},
                                                    cam::GraphMethods{eo.guided});
      std::vector<int64_t> classes;
      for (const auto& t : targets) classes.push_back(t[0]);  // a class, or −1: the top-1
      result = graph->explain(input, classes, pictures, o.maps, /*gradients_to_host=*/false);
    } else {
      cam::ExplainOptions options = eo;
      options.pictures = pictures;
      result = cam::explain(*model, input, targets, options);
    }
    if (o.trace && first == 0) {
      std::fprintf(stderr, "trace: forward %.1f ms for %zu images; each layer's output and time (a batch norm or\n"
                           "  convolution run fused with the ReLU after it includes that ReLU's time):\n", result.forward_ms, count);
      for (const auto& l : result.layers)
        std::fprintf(stderr, "  %-24s %-20s %8.3f ms\n", l.path.c_str(), l.shape.str().c_str(), l.ms);
      const BackwardStats& s = result.gradcam_stats;
      std::fprintf(stderr, "trace: Grad-CAM backward ran %d of %d nodes, stopped after %s:\n", s.nodes_run, s.nodes_on_tape, s.stopped_after.c_str());
      for (size_t i = 0; i < s.ops_run.size(); ++i)
        std::fprintf(stderr, "  %-22s %-20s %.3f ms\n", s.ops_run[i].c_str(), s.labels_run[i].c_str(), s.ms_run[i]);
    }
    // Its files and lines are written while the next batch is explained (see `writing` above).
    auto explained = std::make_shared<tools::ExplainedBatch>();
    explained->paths.assign(o.images.begin() + first, o.images.begin() + first + count);
    explained->views = std::move(batch.views);
    explained->result = std::move(result);
    explained->decode_ms = batch.decode_ms;
    if (writing.valid()) writing.get();  // the previous batch's; its errors surface here
    writing = std::async(write_policy, [&output, explained, threads = o.threads] {
      if (threads > 0) omp_set_num_threads(static_cast<int>(threads));  // --threads holds on a new thread too
      output.write(*explained);
    });
  }
  if (writing.valid()) writing.get();
  output.finish();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  tools::keep_freed_memory();  // src/tools/host_memory.h
  return tools::run_main("explain", [&] { return run(parse(argc, argv)); });
}
