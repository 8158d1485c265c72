// Launch-argument validation against a kernel signature; needs no driver, so it runs anywhere.
#include "kiln/Runtime/CUDA.h"

#include <cstdio>

namespace kiln::runtime::cuda {

const char *elementTypeName(ElementType type) {
  switch (type) {
  case ElementType::Opaque: return "opaque";
  case ElementType::I1: return "i1";
  case ElementType::I8: return "i8";
  case ElementType::U8: return "u8";
  case ElementType::I16: return "i16";
  case ElementType::F16: return "f16";
  case ElementType::BF16: return "bf16";
  case ElementType::I32: return "i32";
  case ElementType::U32: return "u32";
  case ElementType::F32: return "f32";
  case ElementType::I64: return "i64";
  case ElementType::U64: return "u64";
  case ElementType::F64: return "f64";
  }
  return "unknown";
}

size_t elementTypeBytes(ElementType type) {
  switch (type) {
  case ElementType::Opaque: return 0;
  case ElementType::I1:
  case ElementType::I8:
  case ElementType::U8: return 1;
  case ElementType::I16:
  case ElementType::F16:
  case ElementType::BF16: return 2;
  case ElementType::I32:
  case ElementType::U32:
  case ElementType::F32: return 4;
  case ElementType::I64:
  case ElementType::U64:
  case ElementType::F64: return 8;
  }
  return 0;
}

const char *paramKindName(ParamKind kind) {
  switch (kind) {
  case ParamKind::Pointer: return "pointer";
  case ParamKind::I32: return "i32";
  case ParamKind::I64: return "i64";
  case ParamKind::F32: return "f32";
  case ParamKind::F64: return "f64";
  }
  return "unknown";
}

static std::string describeParam(const KernelParam &param) {
  if (param.kind == ParamKind::Pointer)
    return std::string("pointer to ") + elementTypeName(param.elementType);
  return paramKindName(param.kind);
}

std::string KernelArg::describe() const {
  char buf[64];
  switch (kind_) {
  case ParamKind::Pointer:
    return std::string("pointer to ") + elementTypeName(elementType_);
  case ParamKind::I32:
    std::snprintf(buf, sizeof buf, "i32 %d", value_.i32);
    return buf;
  case ParamKind::I64:
    std::snprintf(buf, sizeof buf, "i64 %lld", static_cast<long long>(value_.i64));
    return buf;
  case ParamKind::F32:
    std::snprintf(buf, sizeof buf, "f32 %g", value_.f32);
    return buf;
  case ParamKind::F64:
    std::snprintf(buf, sizeof buf, "f64 %g", value_.f64);
    return buf;
  }
  return "unknown";
}

Status validateLaunchArguments(const KernelSignature &signature,
                               const std::vector<KernelArg> &args, int deviceOrdinal) {
  const std::string prefix = "launch of '" + signature.kernelName + "': ";
  auto fail = [&](std::string what) {
    return Status::error(ErrorCode::InvalidLaunchArgument, prefix + what);
  };
  const auto &params = signature.params;
  if (args.size() != params.size()) {
    std::string what = "expected " + std::to_string(params.size()) + " argument" +
                       (params.size() == 1 ? "" : "s") + ", got " + std::to_string(args.size());
    // Name the first parameter left without an argument, or the first extra argument.
    if (args.size() < params.size())
      what += " (missing argument " + std::to_string(args.size()) + " '" +
              params[args.size()].name + "': " + describeParam(params[args.size()]) + ")";
    else
      what += " (extra argument " + std::to_string(params.size()) + ": " +
              args[params.size()].describe() + ")";
    return fail(std::move(what));
  }
  for (size_t i = 0; i < params.size(); ++i) {
    const KernelParam &param = params[i];
    const KernelArg &arg = args[i];
    const std::string which = "argument " + std::to_string(i) + " '" + param.name + "': ";
    bool kindMatches = arg.kind() == param.kind;
    bool typeMatches = param.kind != ParamKind::Pointer ||
                       param.elementType == ElementType::Opaque ||
                       param.elementType == arg.elementType();
    if (!kindMatches || !typeMatches)
      return fail(which + "expected " + describeParam(param) + ", got " + arg.describe());
    if (param.kind != ParamKind::Pointer)
      continue;
    // Misaligned element pointers fault (or silently split accesses) on the device.
    size_t align = elementTypeBytes(param.elementType);
    if (align > 1 && arg.address() % align != 0) {
      char buf[128];
      std::snprintf(buf, sizeof buf, "pointer 0x%llx is not aligned to %zu bytes for %s",
                    static_cast<unsigned long long>(arg.address()), align,
                    elementTypeName(param.elementType));
      return fail(which + buf);
    }
    if (deviceOrdinal >= 0 && arg.deviceOrdinal() >= 0 && arg.deviceOrdinal() != deviceOrdinal)
      return fail(which + "buffer lives on device " + std::to_string(arg.deviceOrdinal()) +
                  " but the kernel runs on device " + std::to_string(deviceOrdinal));
  }
  return Status::success();
}

} // namespace kiln::runtime::cuda
