// explain_output.cpp — see explain_output.h.
#include "explain_output.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>

#include <unistd.h>

#include "cli.h"
#include "gcam/classes.h"
#include "gcam/error.h"
#include "gcam/printable.h"

namespace gcam::tools {

namespace fs = std::filesystem;

namespace {

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') out += '\\', out += static_cast<char>(c);
    else if (c < 0x20 || c == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else out += static_cast<char>(c);
  }
  return out + "\"";
}

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// Logit c's name: the checkpoint's own names, ImageNet's for 1000 classes, else "class c".
std::string class_name(int64_t c, int64_t num_classes, const std::vector<std::string>& names) {
  if (static_cast<int64_t>(names.size()) == num_classes && c >= 0 && c < num_classes) return names[c];
  return num_classes == 1000 && c >= 0 && c < 1000 ? imagenet_classes()[c] : "class " + std::to_string(c);
}

// One explanation's files, made in memory: (JSON key, what follows STEM in the name, the bytes).
struct File {
  std::string kind, suffix;
  std::vector<uint8_t> bytes;
};

std::vector<File> make_files(const OutputSettings& s, const cam::Explanation& e, const image::Image& view) {
  const int64_t H = view.height, W = view.width;
  std::vector<File> files;
  auto png = [&](const std::string& kind, const image::Image& picture) {
    files.push_back({kind, "_" + kind + ".png", image::encode_png(picture)});
  };
  // Made by the explanation pass, where its maps and gradients were (cam::Pictures).
  auto made = [&](const char* kind, const image::Image& picture) -> const image::Image& {
    GCAM_CHECK(picture.width == W && picture.height == H && static_cast<int64_t>(picture.rgb.size()) == H * W * 3,
               "explain: no ", kind, " picture of the input's size came with the explanation");
    return picture;
  };
  if (s.gradcam) {
    png("gradcam", made("gradcam", e.heatmap));
    png("overlay", made("overlay", e.overlay));
    if (s.maps) {
      GCAM_CHECK(e.map.defined() && e.map.device() == Device::CPU, "explain: the map did not come to the host");
      files.push_back({"map", "_gradcam.npy", image::encode_npy(e.map.data(), {H, W})});
    }
  }
  if (s.counterfactual) png("counterfactual", made("counterfactual", e.counterfactual_heatmap));
  if (s.guided) png("guided", made("guided", e.guided_picture));
  if (s.guided_gradcam) png("guided_gradcam", made("guided_gradcam", e.guided_gradcam_picture));
  if (s.deconvnet) png("deconvnet", made("deconvnet", e.deconvnet_picture));
  return files;
}

}  // namespace

OutputStage::OutputStage(OutputSettings settings) : settings_(std::move(settings)) {
  created_ = make_folder(settings_.folder);
  std::string pattern = (fs::path(settings_.folder) / ".explain-partial-XXXXXX").string();
  if (!mkdtemp(pattern.data())) {
    const int error = errno;
    for (auto it = created_.rbegin(); it != created_.rend(); ++it) ::rmdir(it->c_str());
    throw InputError(settings_.folder + ": cannot write into the folder (" + std::strerror(error) + ")");
  }
  staging_ = pattern;
}

OutputStage::~OutputStage() {
  if (finished_) return;
  for (const auto& [staged, final_path] : written_) std::remove(staged.c_str());
  ::rmdir(staging_.c_str());
  for (auto it = created_.rbegin(); it != created_.rend(); ++it) ::rmdir(it->c_str());  // only if empty
}

void OutputStage::write(const ExplainedBatch& batch) {
  const OutputSettings& s = settings_;
  const auto t0 = std::chrono::steady_clock::now();
  const size_t count = batch.paths.size();
  const cam::BatchExplanation& result = batch.result;

  // One job per explanation, named in order (a repeated STEM gets a number).
  struct Job {
    size_t image, round;
    std::string base;  // the folder and STEM
    std::vector<File> files;
    std::vector<std::pair<std::string, std::string>> outputs;  // (kind, path) as written
  };
  std::vector<Job> jobs;
  for (size_t i = 0; i < count; ++i) {
    std::string stem = fs::path(batch.paths[i]).stem().string();
    if (stems_[stem]++) stem += "_" + std::to_string(stems_[stem]);
    const size_t rounds = result.images[i].size();
    for (size_t r = 0; r < rounds; ++r) {
      // Several explanations of one image (top-k) are told apart by their class.
      const std::string name = rounds > 1 ? stem + "_c" + std::to_string(result.images[i][r].class_index) : stem;
      jobs.push_back(Job{i, r, (fs::path(s.folder) / name).string(), {}, {}});
    }
  }

  // The files, made in parallel: colouring and PNG encoding are most of what `explain` spends on small
  // inputs, and the explanation's threads are idle by now.
  std::exception_ptr failed;
#pragma omp parallel for schedule(dynamic)
  for (size_t j = 0; j < jobs.size(); ++j) {
    try {
      jobs[j].files = make_files(s, result.images[jobs[j].image][jobs[j].round], batch.views[jobs[j].image]);
    } catch (...) {
#pragma omp critical(explain_output_failed)
      if (!failed) failed = std::current_exception();
    }
  }
  if (failed) std::rethrow_exception(failed);
  // Written one after another (threads creating files in one folder only queue on its lock), into the
  // staging folder under the file's own name; finish() moves them into place.
  for (Job& job : jobs) {
    for (File& f : job.files) {
      const std::string path = job.base + f.suffix;
      const std::string staged = (fs::path(staging_) / fs::path(path).filename()).string();
      image::write_file(staged, f.bytes);
      written_.emplace_back(staged, path);
      job.outputs.emplace_back(f.kind, path);
      std::vector<uint8_t>().swap(f.bytes);  // on disk now
    }
  }
  const double write_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();

  // The lines, in order.
  const int64_t num_classes = s.num_classes;
  for (const Job& job : jobs) {
    const std::string& path = batch.paths[job.image];
    const image::Image& view = batch.views[job.image];
    const cam::Explanation& e = result.images[job.image][job.round];
    const float* probs = result.probabilities.data() + job.image * num_classes;
    std::vector<int64_t> order(static_cast<size_t>(num_classes));
    for (int64_t c = 0; c < num_classes; ++c) order[c] = c;
    std::partial_sort(order.begin(), order.begin() + std::min<int64_t>(5, num_classes), order.end(),
                      [&](int64_t a, int64_t b) { return probs[a] > probs[b]; });
    std::string line = "{\"image\": " + json_string(path) + ", \"model\": " + json_string(s.arch) +
                       ", \"layer\": " + json_string(s.layer) + ", \"method\": [";
    for (size_t m = 0; m < s.methods.size(); ++m) line += (m ? ", " : "") + json_string(s.methods[m]);
    line += "], \"class\": " + std::to_string(e.class_index) + ", \"class_name\": " +
            json_string(class_name(e.class_index, num_classes, s.class_names)) + ", \"score\": " + json_number(e.score) +
            ", \"probability\": " + json_number(probs[e.class_index]) + ", \"topk\": [";
    for (int64_t k = 0; k < std::min<int64_t>(5, num_classes); ++k)
      line += std::string(k ? ", " : "") + "{\"class\": " + std::to_string(order[k]) + ", \"name\": " +
              json_string(class_name(order[k], num_classes, s.class_names)) + ", \"probability\": " + json_number(probs[order[k]]) + "}";
    line += "], \"map_all_zero\": ";
    line += e.map_all_zero ? "true" : "false";
    line += ", \"box\": ";
    line += (s.gradcam && !e.box.empty) ? "[" + std::to_string(e.box.x0) + ", " + std::to_string(e.box.y0) + ", " +
                                               std::to_string(e.box.x1) + ", " + std::to_string(e.box.y1) + "]"
                                         : "null";
    line += ", \"input_size\": [" + std::to_string(view.width) + ", " + std::to_string(view.height) + "], \"outputs\": {";
    for (size_t k = 0; k < job.outputs.size(); ++k)
      line += (k ? ", " : "") + json_string(job.outputs[k].first) + ": " + json_string(job.outputs[k].second);
    // Per image: the batch's times divided by its images.
    const double n = static_cast<double>(count);
    line += "}, \"timings_ms\": {\"decode\": " + json_number(batch.decode_ms / n) + ", \"forward\": " +
            json_number(result.forward_ms / n) + ", \"gradcam\": " + json_number(result.gradcam_ms / n) +
            ", \"guided\": " + json_number(result.guided_ms / n) + ", \"maps\": " + json_number(result.maps_ms / n) +
            ", \"write\": " + json_number(write_ms / n) + "}}";
    if (e.map_all_zero && s.gradcam)
      std::fprintf(stderr, "explain: %s: the Grad-CAM map for class %lld is zero everywhere (no positive evidence at %s)\n",
                   printable(path).c_str(), static_cast<long long>(e.class_index), s.layer.c_str());
    if (s.json) {
      std::printf("%s\n", line.c_str());
    } else {  // one line a person can read; the JSON line has everything
      std::string summary = path + ": " + class_name(e.class_index, num_classes, s.class_names);
      char numbers[96];
      std::snprintf(numbers, sizeof numbers, " (p = %.3f)", probs[e.class_index]);
      summary += numbers;
      if (s.gradcam && !e.box.empty) {
        std::snprintf(numbers, sizeof numbers, ", Grad-CAM box x %lld…%lld y %lld…%lld", static_cast<long long>(e.box.x0),
                      static_cast<long long>(e.box.x1), static_cast<long long>(e.box.y0), static_cast<long long>(e.box.y1));
        summary += numbers;
      }
      if (!job.outputs.empty()) summary += " → " + job.base + "_*";
      std::printf("%s\n", printable(summary).c_str());  // a file's or class's name may hold escape sequences
    }
    results_ += line + "\n";
  }
  done_ += count;
  if (s.progress) {
    const size_t width = 30, filled = done_ * width / s.total_images;
    std::fprintf(stderr, "\r[%s%s] %zu/%zu images", std::string(filled, '#').c_str(),
                 std::string(width - filled, ' ').c_str(), done_, s.total_images);
    if (done_ == s.total_images) std::fputc('\n', stderr);
  }
}

void OutputStage::finish() {
  // First every place checked (a folder where a file goes cannot be replaced by one), so that the moves,
  // renames inside one folder, do not stop half done.
  for (const auto& [staged, final_path] : written_) {
    std::error_code error;
    if (fs::is_directory(final_path, error)) throw InputError(final_path + ": cannot write: a folder is in its place");
  }
  for (const auto& [staged, final_path] : written_)
    if (std::rename(staged.c_str(), final_path.c_str()) != 0)
      throw InputError(final_path + ": cannot write: " + std::strerror(errno));
  finished_ = true;  // the pictures are in place; a failure below leaves them, as a run stopped there would
  ::rmdir(staging_.c_str());
  image::write_file((fs::path(settings_.folder) / "results.jsonl").string(),
                    std::vector<uint8_t>(results_.begin(), results_.end()));
}

}  // namespace gcam::tools
