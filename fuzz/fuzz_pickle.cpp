// fuzz_pickle.cpp — the restricted unpickler on any bytes, with the zip format's persistent ids (a
// storage per ('storage', type, key, location, numel) tuple), without any, and reading objects as data (a
// captioner's vocabulary). It may refuse (InputError); it must not crash, read out of bounds, leak, hang or
// balloon.
#include <cstddef>
#include <cstdint>

#include "gcam/error.h"
#include "weights/pickle.h"

using namespace gcam;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const weights::PersistentLoad storages = [](const weights::ValuePtr& pid) {
    auto v = std::make_shared<weights::Value>();
    v->kind = weights::Value::Kind::Storage;
    v->storage = std::make_shared<weights::StorageRef>();
    if (pid->kind == weights::Value::Kind::Tuple && pid->items.size() == 5) v->storage->key = pid->items[2]->text;
    return v;
  };
  for (const weights::PersistentLoad& load : {storages, weights::PersistentLoad()}) {
    try {
      weights::unpickle(data, size, 0, "fuzz", load);
    } catch (const InputError&) {
    }
  }
  try {
    weights::unpickle(data, size, 0, "fuzz", nullptr, /*objects_as_data=*/true);
  } catch (const InputError&) {
  }
  return 0;
}
