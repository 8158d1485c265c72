//===- KernelConfig.cpp - tuning knobs: checks and JSON ---------------------===//
#include "kiln/Driver/KernelConfig.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

using namespace llvm;

namespace kiln::driver {

namespace {

Error configError(const Twine &message) {
  return createStringError(inconvertibleErrorCode(), "config: " + message);
}

/// The kernel attributes a config may override, with the verifier's ranges.
struct AttributeField {
  const char *key;
  std::optional<int64_t> KernelConfig::*field;
  int64_t lo, hi, multiple;
};
const AttributeField kAttributeFields[] = {
    {"num_threads", &KernelConfig::numThreads, 32, 1024, 32},
    {"num_stages", &KernelConfig::numStages, 1, 8, 1},
    {"stream_block", &KernelConfig::streamBlock, 1, 65536, 1},
    {"min_programs_per_sm", &KernelConfig::minProgramsPerSM, 1, 32, 1},
    {"cluster", &KernelConfig::cluster, 1, 16, 1},
};

struct FlagField {
  const char *key;
  bool KernelConfig::*field;
};
const FlagField kFlagFields[] = {
    {"tma", &KernelConfig::tma},
    {"ping_pong", &KernelConfig::pingPong},
    {"intra_overlap", &KernelConfig::intraOverlap},
};

} // namespace

std::vector<std::string> KernelConfig::constantBindings() const {
  std::vector<std::string> out;
  for (const auto &[name, value] : constants)
    out.push_back(name + "=" + value);
  return out;
}

Error KernelConfig::addConstant(StringRef binding) {
  auto [name, value] = binding.split('=');
  if (!binding.contains('=') || name.empty() || value.empty())
    return createStringError(inconvertibleErrorCode(),
                             "-D " + binding + ": expected NAME=VALUE");
  constants.emplace_back(name.str(), value.str());
  return Error::success();
}

Error KernelConfig::verify() const {
  if (threads < 1 || threads > 1024)
    return configError(formatv("threads must be between 1 and 1024, got {0}", threads));
  for (const AttributeField &f : kAttributeFields) {
    const std::optional<int64_t> &v = this->*f.field;
    if (v && (*v < f.lo || *v > f.hi || *v % f.multiple != 0))
      return configError(formatv("{0} must be {1}between {2} and {3}, got {4}", f.key,
                                 f.multiple > 1 ? formatv("a multiple of {0} ", f.multiple).str()
                                                : std::string(),
                                 f.lo, f.hi, *v));
  }
  return Error::success();
}

std::string KernelConfig::toJSON() const {
  json::Object o;
  json::Object consts;
  for (const auto &[name, value] : constants) {
    int64_t n;
    if (!StringRef(value).getAsInteger(0, n))
      consts[name] = n;
    else
      consts[name] = value;
  }
  o["constants"] = std::move(consts);
  o["threads"] = threads;
  for (const AttributeField &f : kAttributeFields)
    if (const std::optional<int64_t> &v = this->*f.field)
      o[f.key] = *v;
  if (warpSpecialize)
    o["warp_specialize"] = *warpSpecialize;
  for (const FlagField &f : kFlagFields)
    o[f.key] = this->*f.field;
  std::string s;
  raw_string_ostream os(s);
  os << json::Value(std::move(o));
  return s;
}

Expected<KernelConfig> KernelConfig::fromJSON(StringRef text) {
  Expected<json::Value> parsed = json::parse(text);
  if (!parsed)
    return configError("not valid JSON: " + toString(parsed.takeError()));
  const json::Object *o = parsed->getAsObject();
  if (!o)
    return configError("expected a JSON object");
  KernelConfig c;
  auto integer = [&](StringRef key, const json::Value &v) -> Expected<int64_t> {
    if (std::optional<int64_t> n = v.getAsInteger())
      return *n;
    return configError("\"" + key + "\" must be an integer");
  };
  for (const auto &[key, value] : *o) {
    StringRef k = key;
    if (k == "constants") {
      const json::Object *consts = value.getAsObject();
      if (!consts)
        return configError("\"constants\" must be an object of NAME: value");
      for (const auto &[name, v] : *consts) {
        std::string text;
        if (std::optional<int64_t> n = v.getAsInteger())
          text = std::to_string(*n);
        else if (std::optional<StringRef> s = v.getAsString())
          text = s->str();
        else if (std::optional<double> d = v.getAsNumber())
          text = formatv("{0}", *d).str();
        else
          return configError("constant \"" + StringRef(name) +
                             "\" must be a number or a string");
        c.constants.emplace_back(name.str(), text);
      }
      continue;
    }
    if (k == "threads") {
      Expected<int64_t> n = integer(k, value);
      if (!n)
        return n.takeError();
      c.threads = *n;
      continue;
    }
    if (k == "warp_specialize") {
      std::optional<bool> flag = value.getAsBoolean();
      if (!flag)
        return configError("\"warp_specialize\" must be true or false");
      c.warpSpecialize = *flag;
      continue;
    }
    bool known = false;
    for (const AttributeField &f : kAttributeFields) {
      if (k != f.key)
        continue;
      Expected<int64_t> n = integer(k, value);
      if (!n)
        return n.takeError();
      c.*f.field = *n;
      known = true;
    }
    for (const FlagField &f : kFlagFields) {
      if (k != f.key)
        continue;
      std::optional<bool> flag = value.getAsBoolean();
      if (!flag)
        return configError("\"" + k + "\" must be true or false");
      c.*f.field = *flag;
      known = true;
    }
    if (!known)
      return configError("unknown key \"" + k + "\"");
  }
  // JSON objects do not keep their order; bind constants in name order.
  llvm::sort(c.constants);
  if (Error e = c.verify())
    return std::move(e);
  return c;
}

} // namespace kiln::driver
