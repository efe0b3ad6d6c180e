// gcam-weights — look inside weight files, convert them for gcam, check official ones.
//
//   gcam-weights inspect FILE
//   gcam-weights convert IN OUT.safetensors [--arch ARCH] [--classes N] [--fold-bn] [--non-strict] [--resize N]
//   gcam-weights verify FILE
//   gcam-weights layers ARCH
//   gcam-weights architectures
// Exit codes: 0 success, 2 bad usage or bad input (one line on stderr naming the file), 1 internal error.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli.h"
#include "gcam/error.h"
#include "gcam/manifest.h"
#include "gcam/models.h"
#include "gcam/weights.h"

using namespace gcam;

namespace {

const char* kUsage = R"(usage: gcam-weights COMMAND ...

  inspect FILE
      The detected format (pytorch-zip, pytorch-legacy, safetensors), then one line per tensor:
      name, dtype, shape. Works on any PyTorch state dict or safetensors file.
  convert IN OUT.safetensors [--arch ARCH] [--classes N] [--fold-bn] [--non-strict] [--resize N]
      Loads IN into ARCH (strictly: a missing, unexpected or mis-shaped tensor is an error) and writes a
      float32 safetensors file with torchvision's names and metadata naming the architecture and the
      preprocessing. ARCH defaults to the manifest's entry for IN's file name. --fold-bn folds each batch
      norm into the convolution before it (same results up to float rounding). --resize sets the
      preprocessing's shorter side (default: the manifest's, else 256; crop is 224).
  verify FILE
      Checks an official torchvision file's SHA-256 against the 8 hex digits in its name (the manifest).
  layers ARCH
      The layer paths of ARCH in execution order, with what each is: the names --layer accepts.
  architectures
      The architectures gcam builds.

Exit status: 0 success; 2 bad usage or bad input; 1 internal error.
)";

[[noreturn]] void usage_error(const std::string& message) { tools::usage_error("gcam-weights", message); }

int inspect(const std::string& path) {
  auto checkpoint = weights::Checkpoint::open(path);
  // Names and metadata as gcam/printable.h shows them: they are the file's, and could hold escape sequences.
  std::printf("%s: %s, %zu tensors\n", printable(path).c_str(), weights::format_name(checkpoint->format()),
              checkpoint->tensors().size());
  for (const auto& [key, value] : checkpoint->metadata())
    std::printf("  metadata %s = %s\n", printable(key).c_str(), printable(value).c_str());
  for (const weights::StoredTensor& t : checkpoint->tensors())
    std::printf("%s\t%s\t%s\n", printable(t.name).c_str(), weights::dtype_name(t.dtype), t.shape_str().c_str());
  return 0;
}

int convert(const std::vector<std::string>& args) {
  std::string in, out, arch;
  int64_t classes = 1000;
  int resize = 0;
  bool fold = false, non_strict = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> const std::string& {
      if (i + 1 >= args.size()) usage_error(a + " needs a value");
      return args[++i];
    };
    if (a == "--arch") arch = value();
    else if (a == "--classes") classes = tools::parse_int("gcam-weights", a, value(), 1, models::kMaxClasses);
    else if (a == "--resize") resize = static_cast<int>(tools::parse_int("gcam-weights", a, value(), 224, 4096));
    else if (a == "--fold-bn") fold = true;
    else if (a == "--non-strict") non_strict = true;
    else if (!a.empty() && a[0] == '-') usage_error("unknown option " + a);
    else if (in.empty()) in = a;
    else if (out.empty()) out = a;
    else usage_error("convert takes two files");
  }
  if (in.empty() || out.empty()) usage_error("convert needs IN and OUT.safetensors");
  const OfficialWeights* official = official_weights_for_file(in);
  if (arch.empty()) {
    if (!official) usage_error(in + " is not an official file name: say --arch");
    arch = official->architecture;
  }
  if (resize == 0) resize = official ? official->resize : 256;

  auto checkpoint = weights::Checkpoint::open(in);
  auto model = models::make_model(arch, classes);
  const models::LoadReport report = models::load_weights(*model, *checkpoint, non_strict);
  for (const std::string& name : report.missing)
    std::fprintf(stderr, "gcam-weights: warning: %s: missing %s\n", printable(in).c_str(), printable(name).c_str());
  for (const std::string& name : report.unexpected)
    std::fprintf(stderr, "gcam-weights: warning: %s: ignored %s\n", printable(in).c_str(), printable(name).c_str());
  const int folded = fold ? models::fold_batch_norm(*model) : 0;

  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const models::NamedTensor& e : model->state()) tensors.emplace_back(e.name, e.tensor);
  const std::string source = in.substr(in.find_last_of('/') == std::string::npos ? 0 : in.find_last_of('/') + 1);
  std::vector<std::pair<std::string, std::string>> metadata = {
      {"gcam.architecture", arch},
      {"gcam.num_classes", std::to_string(classes)},
      {"gcam.source", source},
      {"gcam.source_format", weights::format_name(checkpoint->format())},
      {"gcam.batch_norm", fold ? "folded" : "as trained"},
      {"gcam.preprocess", "imagenet"},
      {"gcam.resize", std::to_string(resize)},
      {"gcam.crop", "224"},
      {"gcam.mean", "0.485,0.456,0.406"},
      {"gcam.std", "0.229,0.224,0.225"},
  };
  if (official) metadata.push_back({"gcam.weights", official->weights});
  weights::write_safetensors(out, tensors, metadata);
  std::printf("%s: %s %s → %s (%d tensors%s)\n", in.c_str(), weights::format_name(checkpoint->format()), arch.c_str(),
              out.c_str(), report.loaded, folded ? (", " + std::to_string(folded) + " batch norms folded").c_str() : "");
  return 0;
}

int verify(const std::string& path) {
  const OfficialWeights* official = official_weights_for_file(path);
  if (!official) throw InputError(path + ": not an official torchvision file name listed in the manifest");
  const std::string digest = weights::sha256_file(path);
  if (digest.compare(0, 8, official->sha256_prefix) != 0)
    throw InputError(path + ": SHA-256 is " + digest + ", but the manifest expects " + official->sha256_prefix +
                     "… (corrupt or incomplete download?)");
  std::printf("%s: OK, sha256 %s…; %s %s (resize %d, crop %d; ImageNet top-1 %.3f%%)\n", path.c_str(),
              digest.substr(0, 16).c_str(), official->architecture.c_str(), official->weights.c_str(), official->resize,
              official->crop, official->top1);
  return 0;
}

int layers(const std::string& arch) {
  auto model = models::make_model(arch);
  for (const models::LayerInfo& layer : model->layers())
    std::printf("%-28s %s%s\n", layer.path.c_str(), layer.kind.c_str(),
                layer.path == model->default_target_layer() ? "   (default Grad-CAM target)" : "");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return tools::run_main("gcam-weights", [&] {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty()) usage_error("no command");
    const std::string command = args[0];
    args.erase(args.begin());
    if (command == "--help" || command == "-h" || command == "help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (command == "inspect" && args.size() == 1) return inspect(args[0]);
    if (command == "convert") return convert(args);
    if (command == "verify" && args.size() == 1) return verify(args[0]);
    if (command == "layers" && args.size() == 1) return layers(args[0]);
    if (command == "architectures" && args.empty()) {
      for (const std::string& a : models::architectures()) std::printf("%s\n", a.c_str());
      return 0;
    }
    usage_error("bad command line for '" + command + "'");
  });
}
