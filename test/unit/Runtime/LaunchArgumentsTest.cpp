// Launch-argument validation: count, kinds, element types, alignment and device, by name.
#include "kiln/Runtime/CUDA.h"

#include <gtest/gtest.h>

using namespace kiln::runtime::cuda;

namespace {

KernelSignature vaddSignature() {
  return {"vadd",
          {KernelParam::pointer("a", ElementType::F32), KernelParam::pointer("b", ElementType::F32),
           KernelParam::pointer("c", ElementType::F32), KernelParam::scalar("n", ParamKind::I32)}};
}

std::vector<KernelArg> vaddArgs() {
  return {KernelArg::pointer(0x1000, ElementType::F32), KernelArg::pointer(0x2000, ElementType::F32),
          KernelArg::pointer(0x3000, ElementType::F32), int32_t(7)};
}

void expectError(const Status &s, const std::string &message) {
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), ErrorCode::InvalidLaunchArgument);
  EXPECT_EQ(s.message(), message);
}

TEST(CudaLaunchArguments, MatchingArgumentsPass) {
  Status s = validateLaunchArguments(vaddSignature(), vaddArgs());
  EXPECT_TRUE(s.ok()) << s.message();
}

TEST(CudaLaunchArguments, TooFewNamesTheMissingParameter) {
  auto args = vaddArgs();
  args.pop_back();
  expectError(validateLaunchArguments(vaddSignature(), args),
              "launch of 'vadd': expected 4 arguments, got 3 (missing argument 3 'n': i32)");
}

TEST(CudaLaunchArguments, TooManyNamesTheExtraArgument) {
  auto args = vaddArgs();
  args.push_back(2.5f);
  expectError(validateLaunchArguments(vaddSignature(), args),
              "launch of 'vadd': expected 4 arguments, got 5 (extra argument 4: f32 2.5)");
}

TEST(CudaLaunchArguments, WrongScalarKind) {
  auto args = vaddArgs();
  args[3] = 7.0f;
  expectError(validateLaunchArguments(vaddSignature(), args),
              "launch of 'vadd': argument 3 'n': expected i32, got f32 7");
  args[3] = int64_t(7);
  expectError(validateLaunchArguments(vaddSignature(), args),
              "launch of 'vadd': argument 3 'n': expected i32, got i64 7");
}

TEST(CudaLaunchArguments, ScalarWherePointerExpected) {
  auto args = vaddArgs();
  args[0] = int32_t(0);
  expectError(validateLaunchArguments(vaddSignature(), args),
              "launch of 'vadd': argument 0 'a': expected pointer to f32, got i32 0");
}

TEST(CudaLaunchArguments, WrongElementType) {
  auto args = vaddArgs();
  args[2] = KernelArg::pointer(0x3000, ElementType::F16);
  expectError(validateLaunchArguments(vaddSignature(), args),
              "launch of 'vadd': argument 2 'c': expected pointer to f32, got pointer to f16");
}

TEST(CudaLaunchArguments, OpaquePointerParameterAcceptsAnyElementType) {
  KernelSignature sig{"copy", {KernelParam::pointer("dst", ElementType::Opaque)}};
  Status s = validateLaunchArguments(sig, {KernelArg::pointer(0x1001, ElementType::BF16 )});
  // Opaque accepts the type; alignment is that of the parameter (none for opaque).
  EXPECT_TRUE(s.ok()) << s.message();
}

TEST(CudaLaunchArguments, MisalignedPointer) {
  auto args = vaddArgs();
  args[1] = KernelArg::pointer(0x2002, ElementType::F32);
  expectError(validateLaunchArguments(vaddSignature(), args),
              "launch of 'vadd': argument 1 'b': pointer 0x2002 is not aligned to 4 bytes for f32");
}

TEST(CudaLaunchArguments, NullPointerIsAllowed) {
  // Optional operands (a missing bias, say) are passed as null.
  auto args = vaddArgs();
  args[1] = KernelArg::pointer(0, ElementType::F32);
  EXPECT_TRUE(validateLaunchArguments(vaddSignature(), args).ok());
}

TEST(CudaLaunchArguments, PointerOnAnotherDevice) {
  auto args = vaddArgs();
  args[0] = KernelArg::pointer(0x1000, ElementType::F32, /*deviceOrdinal=*/1);
  expectError(validateLaunchArguments(vaddSignature(), args, /*deviceOrdinal=*/0),
              "launch of 'vadd': argument 0 'a': buffer lives on device 1 but the kernel runs "
              "on device 0");
  // Unknown devices are not checked.
  EXPECT_TRUE(validateLaunchArguments(vaddSignature(), args).ok());
}

TEST(CudaLaunchArguments, EmptySignature) {
  KernelSignature sig{"noargs", {}};
  EXPECT_TRUE(validateLaunchArguments(sig, {}).ok());
  expectError(validateLaunchArguments(sig, {int32_t(1)}),
              "launch of 'noargs': expected 0 arguments, got 1 (extra argument 0: i32 1)");
}

TEST(CudaLaunchArguments, ArgumentBytesAreWhereTheDriverReadsThem) {
  // cuLaunchKernel copies the parameter's size from data(): the value must sit at offset 0.
  KernelArg i(int32_t(-5));
  KernelArg f(1.5f);
  KernelArg p = KernelArg::pointer(0x1234, ElementType::I8);
  EXPECT_EQ(*static_cast<const int32_t *>(i.data()), -5);
  EXPECT_EQ(*static_cast<const float *>(f.data()), 1.5f);
  EXPECT_EQ(*static_cast<const uint64_t *>(p.data()), 0x1234u);
}

TEST(CudaLaunchArguments, ElementTypeTable) {
  EXPECT_STREQ(elementTypeName(ElementType::BF16), "bf16");
  EXPECT_EQ(elementTypeBytes(ElementType::BF16), 2u);
  EXPECT_EQ(elementTypeBytes(ElementType::F64), 8u);
  EXPECT_EQ(elementTypeBytes(ElementType::Opaque), 0u);
  EXPECT_STREQ(paramKindName(ParamKind::Pointer), "pointer");
}

} // namespace
