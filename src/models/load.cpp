// load.cpp — matching a checkpoint's tensors to a model's state, strictly, by name and shape.
//
// Names are taken as torchvision writes them, after three accepted rewrites:
//   "module.<name>"                 → "<name>"            (nn.DataParallel), when every name has it
//   "pre_logits.fc1" / ".fc2", "head.fc" → "classifier.0" / ".3", ".6"   (timm's VGG; fc1 and fc2
//                                     are stored as 4-D convolutions with the same elements)
//   "<bn>.num_batches_tracked"      → ignored
// A shape must match exactly, except that timm's 4-D classifier may be read as torchvision's 2-D one.
#include <algorithm>
#include <map>

#include "gcam/error.h"
#include "gcam/models.h"
#include "on_host.h"

namespace gcam::models {

namespace {

bool starts_with(const std::string& s, const std::string& head) { return s.compare(0, head.size(), head) == 0; }
bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

std::string timm_to_torchvision(const std::string& name) {
  static const std::pair<const char*, const char*> renames[] = {
      {"pre_logits.fc1.", "classifier.0."}, {"pre_logits.fc2.", "classifier.3."}, {"head.fc.", "classifier.6."}};
  for (const auto& [from, to] : renames)
    if (starts_with(name, from)) return to + name.substr(std::string(from).size());
  return name;
}

std::string list(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < 5; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > 5) out += ", … (" + std::to_string(names.size()) + " in all)";
  return out;
}

}  // namespace

LoadReport load_weights(Model& model, const weights::Checkpoint& checkpoint, bool non_strict) {
  if (model.device() != Device::CPU)  // the file is read into host memory
    return detail::on_host(model, [&] { return load_weights(model, checkpoint, non_strict); });
  const std::string& file = checkpoint.path();
  const auto& stored = checkpoint.tensors();
  const bool data_parallel =
      !stored.empty() && std::all_of(stored.begin(), stored.end(), [](const weights::StoredTensor& t) {
        return starts_with(t.name, "module.");
      });
  std::map<std::string, const weights::StoredTensor*> by_name;  // torchvision name → stored tensor
  std::map<std::string, bool> from_timm;
  for (const weights::StoredTensor& t : stored) {
    std::string name = data_parallel ? t.name.substr(7) : t.name;
    if (ends_with(name, ".num_batches_tracked")) continue;
    const std::string renamed = timm_to_torchvision(name);
    if (!by_name.emplace(renamed, &t).second) throw InputError(file + ": tensor '" + renamed + "' appears twice");
    from_timm[renamed] = renamed != name;
  }

  LoadReport report;
  std::vector<std::pair<const weights::StoredTensor*, Tensor>> plan;
  for (const NamedTensor& entry : model.state()) {
    auto it = by_name.find(entry.name);
    if (it == by_name.end()) {
      report.missing.push_back(entry.name);
      continue;
    }
    const weights::StoredTensor& t = *it->second;
    const Shape& want = entry.tensor.shape();
    bool fits = static_cast<int>(t.shape.size()) == want.ndim();
    for (int d = 0; fits && d < want.ndim(); ++d) fits = t.shape[d] == want[d];
    if (!fits && from_timm[entry.name]) fits = t.numel() == want.numel();  // timm's 4-D classifier
    if (!fits)
      throw InputError(file + ": tensor '" + t.name + "' has shape " + t.shape_str() + ", but " +
                       model.architecture() + " expects " + want.str());
    plan.emplace_back(&t, entry.tensor);
    by_name.erase(it);
  }
  for (const auto& [name, t] : by_name) report.unexpected.push_back(t->name);
  if (!non_strict && (!report.missing.empty() || !report.unexpected.empty())) {
    std::string message = file + ": does not fit " + model.architecture() + ":";
    if (!report.missing.empty()) message += " missing " + list(report.missing) + ";";
    if (!report.unexpected.empty()) message += " unexpected " + list(report.unexpected) + ";";
    throw InputError(message + " (is it the right architecture?)");
  }
  // Everything checked: now copy, one tensor at a time, into the model's own storage.
  for (auto& [t, destination] : plan) {
    checkpoint.read_into(*t, destination);
    ++report.loaded;
  }
  return report;
}

}  // namespace gcam::models
