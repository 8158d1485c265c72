// HostOpsTest.cpp: every kiln op JIT-compiled for the host and checked against a
// plain C++ reference, plus the JIT's own error paths.
#include "kiln/JIT/HostJIT.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

using kiln::jit::HostKernel;

namespace {

std::unique_ptr<HostKernel> compile(const std::string &src, const std::string &name,
                                    const std::vector<std::string> &constants = {}) {
  std::string error;
  auto kernel = HostKernel::compile(src, name, constants, error);
  EXPECT_TRUE(kernel) << error;
  return kernel;
}

std::vector<float> randoms(size_t n, unsigned seed, float lo = -4, float hi = 4) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto &x : v)
    x = d(rng);
  return v;
}

struct Desc2 {
  void *base;
  int64_t shape[2];
  int64_t strides[2];
};
struct Desc1 {
  void *base;
  int64_t shape[1];
  int64_t strides[1];
};

// Loads a 4x8 tile at (r, c) with padding 7, transposes, reshapes, broadcasts a
// column and stores the sum into an 8x4 output.
const char *kShapes = R"(
kiln.func @shapes(%in: !kiln.desc<f32, 2>, %out: !kiln.desc<f32, 2>, %r: i32, %c: i32) {
  %z = arith.constant 0 : i32
  %t = kiln.load %in[%r, %c] {padding = 7.0 : f32} : !kiln.desc<f32, 2>[i32, i32] -> tensor<4x8xf32>
  %tt = kiln.transpose %t {order = array<i32: 1, 0>} : tensor<4x8xf32> -> tensor<8x4xf32>
  %flat = kiln.reshape %tt : tensor<8x4xf32> -> tensor<32xf32>
  %back = kiln.reshape %flat : tensor<32xf32> -> tensor<8x4xf32>
  %row = kiln.reduce sum %t {axis = 1 : i32} : tensor<4x8xf32> -> tensor<4xf32>
  %e = kiln.expand_dims %row {axis = 0 : i32} : tensor<4xf32> -> tensor<1x4xf32>
  %b = kiln.broadcast %e : tensor<1x4xf32> -> tensor<8x4xf32>
  %s = arith.addf %back, %b : tensor<8x4xf32>
  kiln.store %out[%z, %z], %s : !kiln.desc<f32, 2>[i32, i32], tensor<8x4xf32>
  kiln.return
}
)";

TEST(HostOps, LoadPaddingTransposeReshapeBroadcast) {
  auto k = compile(kShapes, "shapes");
  ASSERT_TRUE(k);
  const int R = 5, C = 6; // smaller than the tile: the rest is padding
  auto in = randoms(R * C, 1);
  std::vector<float> out(32, NAN);
  for (int r0 : {0, 2, -1}) {
    for (int c0 : {0, 3}) {
      Desc2 din{in.data(), {R, C}, {C, 1}}, dout{out.data(), {8, 4}, {4, 1}};
      int32_t r = r0, c = c0;
      void *args[] = {&din, &dout, &r, &c};
      ASSERT_EQ(k->launch(args, 4, 1), KILN_SUCCESS);
      auto at = [&](int i, int j) {
        int rr = r0 + i, cc = c0 + j;
        return rr >= 0 && rr < R && cc >= 0 && cc < C ? in[rr * C + cc] : 7.0f;
      };
      for (int i = 0; i < 8; ++i)
        for (int j = 0; j < 4; ++j) {
          float rowSum = 0;
          for (int q = 0; q < 8; ++q)
            rowSum += at(j, q);
          EXPECT_NEAR(out[i * 4 + j], at(j, i) + rowSum, 1e-4) << r0 << "," << c0;
        }
    }
  }
}

const char *kReduce = R"(
kiln.func @reduce(%in: !kiln.desc<f32, 2>, %out: !kiln.ptr<f32>) {
  %z = arith.constant 0 : i32
  %t = kiln.load %in[%z, %z] : !kiln.desc<f32, 2>[i32, i32] -> tensor<8x16xf32>
  %sum = kiln.reduce sum %t {axis = 1 : i32} : tensor<8x16xf32> -> tensor<8xf32>
  %max = kiln.reduce max %t {axis = 1 : i32} : tensor<8x16xf32> -> tensor<8xf32>
  %min = kiln.reduce min %t {axis = 0 : i32} : tensor<8x16xf32> -> tensor<16xf32>
  %prod = kiln.reduce prod %t {axis = 1 : i32} : tensor<8x16xf32> -> tensor<8xf32>
  %amax = kiln.reduce %t {axis = 1 : i32} : tensor<8x16xf32> -> tensor<8xf32> combiner {
  ^bb0(%a: f32, %b: f32):
    %x = math.absf %a : f32
    %y = math.absf %b : f32
    %m = arith.maximumf %x, %y : f32
    kiln.yield %m : f32
  }
  %total = kiln.reduce sum %sum {axis = 0 : i32} : tensor<8xf32> -> f32
  %i8 = kiln.iota : tensor<8xi32>
  %i16 = kiln.iota : tensor<16xi32>
  %c8 = arith.constant 8 : i32
  %c16 = arith.constant 16 : i32
  %c24 = arith.constant 24 : i32
  %c32 = arith.constant 32 : i32
  %c40 = arith.constant 40 : i32
  %p0 = kiln.addptr %out, %i8 : !kiln.ptr<f32>, tensor<8xi32> -> tensor<8x!kiln.ptr<f32>>
  kiln.scatter %p0, %sum : tensor<8x!kiln.ptr<f32>>, tensor<8xf32>
  %o1 = kiln.addptr %out, %c8 : !kiln.ptr<f32>, i32 -> !kiln.ptr<f32>
  %p1 = kiln.addptr %o1, %i8 : !kiln.ptr<f32>, tensor<8xi32> -> tensor<8x!kiln.ptr<f32>>
  kiln.scatter %p1, %max : tensor<8x!kiln.ptr<f32>>, tensor<8xf32>
  %o2 = kiln.addptr %out, %c16 : !kiln.ptr<f32>, i32 -> !kiln.ptr<f32>
  %p2 = kiln.addptr %o2, %i16 : !kiln.ptr<f32>, tensor<16xi32> -> tensor<16x!kiln.ptr<f32>>
  kiln.scatter %p2, %min : tensor<16x!kiln.ptr<f32>>, tensor<16xf32>
  %o3 = kiln.addptr %out, %c32 : !kiln.ptr<f32>, i32 -> !kiln.ptr<f32>
  %p3 = kiln.addptr %o3, %i8 : !kiln.ptr<f32>, tensor<8xi32> -> tensor<8x!kiln.ptr<f32>>
  kiln.scatter %p3, %prod : tensor<8x!kiln.ptr<f32>>, tensor<8xf32>
  %o4 = kiln.addptr %out, %c40 : !kiln.ptr<f32>, i32 -> !kiln.ptr<f32>
  %p4 = kiln.addptr %o4, %i8 : !kiln.ptr<f32>, tensor<8xi32> -> tensor<8x!kiln.ptr<f32>>
  kiln.scatter %p4, %amax : tensor<8x!kiln.ptr<f32>>, tensor<8xf32>
  %c48 = arith.constant 48 : i32
  %o5 = kiln.addptr %out, %c48 : !kiln.ptr<f32>, i32 -> !kiln.ptr<f32>
  %old = kiln.atomic_add %o5, %total : !kiln.ptr<f32>, f32 -> f32
  kiln.return
}
)";

TEST(HostOps, Reductions) {
  auto k = compile(kReduce, "reduce");
  ASSERT_TRUE(k);
  auto in = randoms(8 * 16, 2, 0.5f, 1.5f);
  in[3] = -9.f; // the combiner takes |x|
  std::vector<float> out(49, NAN);
  out[48] = 0;
  Desc2 d{in.data(), {8, 16}, {16, 1}};
  float *o = out.data();
  void *args[] = {&d, &o};
  ASSERT_EQ(k->launch(args, 2, 1), KILN_SUCCESS);
  double total = 0;
  for (int r = 0; r < 8; ++r) {
    double s = 0, p = 1;
    float m = -INFINITY, am = 0;
    for (int c = 0; c < 16; ++c) {
      float x = in[r * 16 + c];
      s += x;
      p *= x;
      m = std::max(m, x);
      am = std::max(am, std::fabs(x));
    }
    total += s;
    EXPECT_NEAR(out[r], s, 1e-4);
    EXPECT_EQ(out[8 + r], m);
    EXPECT_NEAR(out[32 + r], p, 1e-3 * std::fabs(p));
    EXPECT_EQ(out[40 + r], am);
  }
  for (int c = 0; c < 16; ++c) {
    float m = INFINITY;
    for (int r = 0; r < 8; ++r)
      m = std::min(m, in[r * 16 + c]);
    EXPECT_EQ(out[16 + c], m);
  }
  EXPECT_NEAR(out[48], total, 1e-3);
}

const char *kScan = R"(
kiln.func @scan(%in: !kiln.desc<i32, 2>, %out: !kiln.desc<i32, 2>) {
  %z = arith.constant 0 : i32
  %c4 = arith.constant 4 : i32
  %c8 = arith.constant 8 : i32
  %t = kiln.load %in[%z, %z] : !kiln.desc<i32, 2>[i32, i32] -> tensor<4x8xi32>
  %fwd = kiln.scan sum %t {axis = 1 : i32} : tensor<4x8xi32> -> tensor<4x8xi32>
  %rev = kiln.scan sum %t {axis = 1 : i32, reverse} : tensor<4x8xi32> -> tensor<4x8xi32>
  %cmax = kiln.scan %t {axis = 0 : i32} : tensor<4x8xi32> -> tensor<4x8xi32> combiner {
  ^bb0(%a: i32, %b: i32):
    %m = arith.maxsi %a, %b : i32
    kiln.yield %m : i32
  }
  kiln.store %out[%z, %z], %fwd : !kiln.desc<i32, 2>[i32, i32], tensor<4x8xi32>
  kiln.store %out[%c4, %z], %rev : !kiln.desc<i32, 2>[i32, i32], tensor<4x8xi32>
  kiln.store %out[%c8, %z], %cmax : !kiln.desc<i32, 2>[i32, i32], tensor<4x8xi32>
  kiln.return
}
)";

TEST(HostOps, Scans) {
  auto k = compile(kScan, "scan");
  ASSERT_TRUE(k);
  std::vector<int32_t> in(32), out(96, -1);
  std::mt19937 rng(3);
  for (auto &x : in)
    x = (int32_t)(rng() % 201) - 100;
  Desc2 din{in.data(), {4, 8}, {8, 1}}, dout{out.data(), {12, 8}, {8, 1}};
  void *args[] = {&din, &dout};
  ASSERT_EQ(k->launch(args, 2, 1), KILN_SUCCESS);
  for (int r = 0; r < 4; ++r) {
    int run = 0;
    for (int c = 0; c < 8; ++c) {
      run += in[r * 8 + c];
      EXPECT_EQ(out[r * 8 + c], run);
    }
    run = 0;
    for (int c = 7; c >= 0; --c) {
      run += in[r * 8 + c];
      EXPECT_EQ(out[32 + r * 8 + c], run);
    }
  }
  for (int c = 0; c < 8; ++c) {
    int m = INT32_MIN;
    for (int r = 0; r < 4; ++r) {
      m = std::max(m, in[r * 8 + c]);
      EXPECT_EQ(out[64 + r * 8 + c], m);
    }
  }
}

// f32 -> T -> f32 round trips for every 8- and 16-bit float format.
std::string roundTripKernel(const std::string &type) {
  return R"(
kiln.func @rt(%in: !kiln.desc<f32, 1>, %mid: !kiln.desc<)" + type + R"(, 1>, %out: !kiln.desc<f32, 1>) {
  %z = arith.constant 0 : i32
  %t = kiln.load %in[%z] : !kiln.desc<f32, 1>[i32] -> tensor<64xf32>
  %n = kiln.cast %t : tensor<64xf32> to tensor<64x)" + type + R"(>
  kiln.store %mid[%z], %n : !kiln.desc<)" + type + R"(, 1>[i32], tensor<64x)" + type + R"(>
  %back = kiln.load %mid[%z] : !kiln.desc<)" + type + R"(, 1>[i32] -> tensor<64x)" + type + R"(>
  %w = kiln.cast %back : tensor<64x)" + type + R"(> to tensor<64xf32>
  kiln.store %out[%z], %w : !kiln.desc<f32, 1>[i32], tensor<64xf32>
  kiln.return
}
)";
}

/// Decodes an 8-bit float independently of the compiler: sign, exponent, mantissa.
double decodeF8(uint8_t b, int expBits, int manBits, int bias, bool ieee) {
  int s = b >> 7, e = (b >> manBits) & ((1 << expBits) - 1), m = b & ((1 << manBits) - 1);
  double v;
  if (ieee && e == (1 << expBits) - 1)
    v = m ? NAN : INFINITY;
  else if (!ieee && e == (1 << expBits) - 1 && m == (1 << manBits) - 1)
    v = NAN;
  else if (e == 0)
    v = std::ldexp((double)m, 1 - bias - manBits);
  else
    v = std::ldexp(1.0 + m / (double)(1 << manBits), e - bias);
  return s ? -v : v;
}

/// Nearest representable value, ties to even mantissa, by searching all codes.
float nearestF8(float x, int expBits, int manBits, int bias, bool ieee) {
  if (std::isnan(x))
    return NAN;
  double best = NAN, bestErr = INFINITY;
  int bestCode = 0;
  double maxFinite = 0;
  for (int c = 0; c < 256; ++c) {
    double v = decodeF8((uint8_t)c, expBits, manBits, bias, ieee);
    if (std::isfinite(v))
      maxFinite = std::max(maxFinite, v);
  }
  if (std::fabs(x) > maxFinite) {
    // Beyond the largest finite value: e5m2 rounds to infinity past the halfway point,
    // e4m3fn saturates.
    double step = std::ldexp(1.0, (int)std::floor(std::log2(maxFinite)) - manBits);
    if (!ieee || std::fabs(x) < maxFinite + step / 2)
      return std::copysign((float)maxFinite, x);
    return std::copysign(INFINITY, x);
  }
  for (int c = 0; c < 256; ++c) {
    double v = decodeF8((uint8_t)c, expBits, manBits, bias, ieee);
    if (!std::isfinite(v))
      continue;
    double err = std::fabs(v - x);
    if (err < bestErr || (err == bestErr && (c & 1) == 0 && (bestCode & 1) == 1)) {
      best = v;
      bestErr = err;
      bestCode = c;
    }
  }
  return (float)best;
}

float nearestHalfLike(float x, int manBits) {
  // Round-to-nearest-even to `manBits` mantissa bits by bit manipulation on f32
  // (valid in the normal range of both f16 and bf16 for the inputs used here).
  uint32_t u;
  std::memcpy(&u, &x, 4);
  int drop = 23 - manBits;
  u += ((1u << (drop - 1)) - 1) + ((u >> drop) & 1);
  u &= ~((1u << drop) - 1);
  float r;
  std::memcpy(&r, &u, 4);
  return r;
}

TEST(HostOps, FloatCastsRoundTrip) {
  auto in = randoms(64, 4, -300.f, 300.f);
  in[0] = 0.f;
  in[1] = -0.0f;
  in[2] = 1e-3f;  // subnormal in both 8-bit formats
  in[3] = 500.f;  // beyond e4m3fn's 448
  in[4] = 70000.f; // beyond e5m2's 57344
  in[5] = NAN;
  in[6] = 0.0703125f; // exactly halfway between two e4m3fn values
  struct Case {
    const char *type;
    int bytes;
    std::function<float(float)> ref;
  } cases[] = {
      {"f16", 2, [](float x) { return std::fabs(x) > 65504 ? x : nearestHalfLike(x, 10); }},
      {"bf16", 2, [](float x) { return nearestHalfLike(x, 7); }},
      {"f8E4M3FN", 1, [](float x) { return nearestF8(x, 4, 3, 7, false); }},
      {"f8E5M2", 1, [](float x) { return nearestF8(x, 5, 2, 15, true); }},
  };
  for (auto &c : cases) {
    SCOPED_TRACE(c.type);
    auto k = compile(roundTripKernel(c.type), "rt");
    ASSERT_TRUE(k);
    std::vector<float> out(64, -1);
    std::vector<uint8_t> mid(64 * c.bytes);
    Desc1 din{in.data(), {64}, {1}}, dmid{mid.data(), {64}, {1}}, dout{out.data(), {64}, {1}};
    void *args[] = {&din, &dmid, &dout};
    ASSERT_EQ(k->launch(args, 3, 1), KILN_SUCCESS);
    for (int i = 0; i < 64; ++i) {
      if (std::string(c.type) == "f16" && (i == 2 || i == 4))
        continue; // f16 subnormals and overflow are LLVM's; checked elsewhere
      float want = c.ref(in[i]);
      if (std::isnan(want))
        EXPECT_TRUE(std::isnan(out[i])) << i;
      else
        EXPECT_EQ(out[i], want) << "element " << i << " input " << in[i];
    }
  }
}

const char *kIntCasts = R"(
kiln.func @ints(%in: !kiln.desc<f32, 1>, %out: !kiln.desc<i32, 1>) {
  %z = arith.constant 0 : i32
  %c16 = arith.constant 16 : i32
  %c32 = arith.constant 32 : i32
  %t = kiln.load %in[%z] : !kiln.desc<f32, 1>[i32] -> tensor<16xf32>
  %s8 = kiln.cast %t : tensor<16xf32> to tensor<16xi8>
  %w8 = kiln.cast %s8 : tensor<16xi8> to tensor<16xi32>
  kiln.store %out[%z], %w8 : !kiln.desc<i32, 1>[i32], tensor<16xi32>
  %u4 = kiln.cast unsigned %t : tensor<16xf32> to tensor<16xi4>
  %w4 = kiln.cast unsigned %u4 : tensor<16xi4> to tensor<16xi32>
  kiln.store %out[%c16], %w4 : !kiln.desc<i32, 1>[i32], tensor<16xi32>
  %s4 = kiln.cast %w8 : tensor<16xi32> to tensor<16xi4>
  %x4 = kiln.cast %s4 : tensor<16xi4> to tensor<16xi32>
  kiln.store %out[%c32], %x4 : !kiln.desc<i32, 1>[i32], tensor<16xi32>
  kiln.return
}
)";

TEST(HostOps, IntegerCastsSaturateAndTruncate) {
  auto k = compile(kIntCasts, "ints");
  ASSERT_TRUE(k);
  std::vector<float> in = {0, 1.9f, -1.9f, 127.4f, 128.f, -129.f, 1e9f, -1e9f,
                           NAN, 15.f, 16.f, -0.5f, 7.5f, 3.f, -100.f, 99.f};
  std::vector<int32_t> out(48, 1234);
  Desc1 din{in.data(), {16}, {1}}, dout{out.data(), {48}, {1}};
  void *args[] = {&din, &dout};
  ASSERT_EQ(k->launch(args, 2, 1), KILN_SUCCESS);
  for (int i = 0; i < 16; ++i) {
    float x = in[i];
    auto sat = [&](double lo, double hi) -> int32_t {
      if (std::isnan(x))
        return 0;
      return (int32_t)std::max(lo, std::min(hi, std::trunc((double)x)));
    };
    int32_t s8 = sat(-128, 127);
    EXPECT_EQ(out[i], s8) << x;
    EXPECT_EQ(out[16 + i], sat(0, 15)) << x;
    int32_t low4 = s8 & 15;
    EXPECT_EQ(out[32 + i], low4 >= 8 ? low4 - 16 : low4) << x;
  }
}

const char *kMemory = R"(
kiln.func @memory(%x: !kiln.ptr<f32>, %y: !kiln.ptr<f32>, %counts: !kiln.ptr<f32>, %n: i32) {
  %pid = kiln.program_id 0 : i32
  %c16 = arith.constant 16 : i32
  %start = arith.muli %pid, %c16 : i32
  %i = kiln.iota : tensor<16xi32>
  %s = kiln.splat %start : tensor<16xi32>
  %offs = arith.addi %s, %i : tensor<16xi32>
  %nn = kiln.splat %n : tensor<16xi32>
  %mask = arith.cmpi slt, %offs, %nn : tensor<16xi32>
  %px = kiln.addptr %x, %offs : !kiln.ptr<f32>, tensor<16xi32> -> tensor<16x!kiln.ptr<f32>>
  %minus = arith.constant -1.0 : f32
  %other = kiln.splat %minus : tensor<16xf32>
  %v = kiln.gather %px mask %mask other %other : tensor<16x!kiln.ptr<f32>> -> tensor<16xf32>, tensor<16xi1>
  %rev = arith.subi %nn, %offs : tensor<16xi32>
  %one = arith.constant 1 : i32
  %ones = kiln.splat %one : tensor<16xi32>
  %rev1 = arith.subi %rev, %ones : tensor<16xi32>
  %py = kiln.addptr %y, %rev1 : !kiln.ptr<f32>, tensor<16xi32> -> tensor<16x!kiln.ptr<f32>>
  kiln.scatter %py, %v mask %mask : tensor<16x!kiln.ptr<f32>>, tensor<16xf32>, tensor<16xi1>
  %pc = kiln.addptr %counts, %i : !kiln.ptr<f32>, tensor<16xi32> -> tensor<16x!kiln.ptr<f32>>
  %f1 = arith.constant 1.0 : f32
  %inc = kiln.splat %f1 : tensor<16xf32>
  %old = kiln.atomic_add %pc, %inc mask %mask : tensor<16x!kiln.ptr<f32>>, tensor<16xf32>, tensor<16xi1> -> tensor<16xf32>
  kiln.return
}
)";

TEST(HostOps, GatherScatterAtomics) {
  auto k = compile(kMemory, "memory");
  ASSERT_TRUE(k);
  for (int n : {1, 15, 16, 17, 1009}) {
    auto x = randoms(n, 5);
    std::vector<float> y(n + 1, NAN), counts(16, 0);
    y[n] = 42.f;
    float *px = x.data(), *py = y.data(), *pc = counts.data();
    int32_t nn = n;
    void *args[] = {&px, &py, &pc, &nn};
    uint32_t grid = (n + 15) / 16;
    ASSERT_EQ(k->launch(args, 4, grid), KILN_SUCCESS);
    for (int i = 0; i < n; ++i)
      EXPECT_EQ(y[n - 1 - i], x[i]);
    EXPECT_EQ(y[n], 42.f) << "scatter wrote past the end";
    // Every program adds one to each counter whose element exists.
    for (int j = 0; j < 16; ++j) {
      int expected = 0;
      for (uint32_t p = 0; p < grid; ++p)
        expected += (int)(p * 16 + j) < n;
      EXPECT_EQ(counts[j], (float)expected) << "n=" << n << " j=" << j;
    }
  }
}

const char *kDots = R"(
kiln.func @dots(%a: !kiln.desc<f16, 2>, %b: !kiln.desc<f16, 2>, %c: !kiln.desc<f32, 2>,
                %qa: !kiln.desc<i8, 2>, %qb: !kiln.desc<i8, 2>, %qc: !kiln.desc<i32, 2>) {
  %z = arith.constant 0 : i32
  %ta = kiln.load %a[%z, %z] : !kiln.desc<f16, 2>[i32, i32] -> tensor<16x32xf16>
  %tb = kiln.load %b[%z, %z] : !kiln.desc<f16, 2>[i32, i32] -> tensor<32x8xf16>
  %half = arith.constant 0.5 : f32
  %acc = kiln.splat %half : tensor<16x8xf32>
  %r = kiln.dot %ta, %tb, %acc : tensor<16x32xf16>, tensor<32x8xf16> -> tensor<16x8xf32>
  kiln.store %c[%z, %z], %r : !kiln.desc<f32, 2>[i32, i32], tensor<16x8xf32>
  %xa = kiln.load %qa[%z, %z] : !kiln.desc<i8, 2>[i32, i32] -> tensor<8x16xi8>
  %xb = kiln.load %qb[%z, %z] : !kiln.desc<i8, 2>[i32, i32] -> tensor<8x4xi8>
  %ba = kiln.reshape %xa : tensor<8x16xi8> -> tensor<2x4x16xi8>
  %bb = kiln.reshape %xb : tensor<8x4xi8> -> tensor<2x16x1xi8>
  %bbb = kiln.broadcast %bb : tensor<2x16x1xi8> -> tensor<2x16x4xi8>
  %zero = arith.constant 0 : i32
  %qacc = kiln.splat %zero : tensor<2x4x4xi32>
  %q = kiln.dot %ba, %bbb, %qacc : tensor<2x4x16xi8>, tensor<2x16x4xi8> -> tensor<2x4x4xi32>
  %q2 = kiln.reshape %q : tensor<2x4x4xi32> -> tensor<8x4xi32>
  kiln.store %qc[%z, %z], %q2 : !kiln.desc<i32, 2>[i32, i32], tensor<8x4xi32>
  kiln.return
}
)";

uint16_t toHalf(float f) {
  // Exact for the small integers and halves used here.
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if (f == 0)
    return (uint16_t)(u >> 16);
  int e = ((u >> 23) & 255) - 127 + 15;
  return (uint16_t)(((u >> 16) & 0x8000) | (e << 10) | ((u >> 13) & 0x3ff));
}

TEST(HostOps, DotsAccumulateExactly) {
  auto k = compile(kDots, "dots");
  ASSERT_TRUE(k);
  // Small integers: f32 accumulation is exact, so results must match bit for bit.
  std::mt19937 rng(6);
  std::vector<float> af(16 * 32), bf(32 * 8);
  for (auto &x : af)
    x = (float)((int)(rng() % 9) - 4);
  for (auto &x : bf)
    x = (float)((int)(rng() % 9) - 4) * 0.5f;
  std::vector<uint16_t> a(af.size()), b(bf.size());
  for (size_t i = 0; i < af.size(); ++i)
    a[i] = toHalf(af[i]);
  for (size_t i = 0; i < bf.size(); ++i)
    b[i] = toHalf(bf[i]);
  std::vector<float> c(16 * 8, NAN);
  std::vector<int8_t> qa(8 * 16), qb(8 * 4);
  for (auto &x : qa)
    x = (int8_t)((int)(rng() % 255) - 127);
  for (auto &x : qb)
    x = (int8_t)((int)(rng() % 255) - 127);
  std::vector<int32_t> qc(8 * 4, 7);
  Desc2 da{a.data(), {16, 32}, {32, 1}}, db{b.data(), {32, 8}, {8, 1}}, dc{c.data(), {16, 8}, {8, 1}};
  Desc2 dqa{qa.data(), {8, 16}, {16, 1}}, dqb{qb.data(), {8, 4}, {4, 1}}, dqc{qc.data(), {8, 4}, {4, 1}};
  void *args[] = {&da, &db, &dc, &dqa, &dqb, &dqc};
  ASSERT_EQ(k->launch(args, 6, 1), KILN_SUCCESS);
  for (int i = 0; i < 16; ++i)
    for (int j = 0; j < 8; ++j) {
      double s = 0.5;
      for (int q = 0; q < 32; ++q)
        s += (double)af[i * 32 + q] * bf[q * 8 + j];
      EXPECT_EQ(c[i * 8 + j], (float)s) << i << "," << j;
    }
  // qb viewed as 2x16x1 then broadcast along N: batch t, row k -> qb[t*16 + k].
  for (int t = 0; t < 2; ++t)
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) {
        int32_t s = 0;
        for (int q = 0; q < 16; ++q)
          s += (int32_t)qa[(t * 4 + i) * 16 + q] * qb[t * 16 + q];
        EXPECT_EQ(qc[(t * 4 + i) * 4 + j], s);
      }
}

// Packed sub-byte elements through descriptors: i4 (two per byte) and i3 (straddling).
std::string packedKernel(int bits) {
  std::string t = "i" + std::to_string(bits);
  return R"(
kiln.func @packed(%in: !kiln.desc<)" + t + R"(, 1>, %out: !kiln.desc<)" + t + R"(, 1>, %wide: !kiln.desc<i32, 1>, %o: i32) {
  %z = arith.constant 0 : i32
  %v = kiln.load %in[%o] : !kiln.desc<)" + t + R"(, 1>[i32] -> tensor<32x)" + t + R"(>
  %w = kiln.cast unsigned %v : tensor<32x)" + t + R"(> to tensor<32xi32>
  kiln.store %wide[%z], %w : !kiln.desc<i32, 1>[i32], tensor<32xi32>
  kiln.store %out[%o], %v : !kiln.desc<)" + t + R"(, 1>[i32], tensor<32x)" + t + R"(>
  kiln.return
}
)";
}

uint32_t getBits(const std::vector<uint8_t> &buf, int index, int bits) {
  uint32_t v = 0;
  for (int b = 0; b < bits; ++b) {
    int bit = index * bits + b;
    v |= ((buf[bit / 8] >> (bit % 8)) & 1u) << b;
  }
  return v;
}

TEST(HostOps, PackedSubByteLoadsAndStores) {
  for (int bits : {1, 3, 4, 6}) {
    SCOPED_TRACE(bits);
    auto k = compile(packedKernel(bits), "packed");
    ASSERT_TRUE(k);
    const int n = 45; // not a multiple of 8 elements or of the tile
    for (int offset : {0, 5, 20}) {
      std::mt19937 rng(bits * 100 + offset);
      std::vector<uint8_t> in((n * bits + 7) / 8 + 2), out(in.size(), 0xA5);
      for (auto &x : in)
        x = (uint8_t)rng();
      std::vector<int32_t> wide(32, -1);
      Desc1 din{in.data(), {n}, {1}}, dout{out.data(), {n}, {1}}, dw{wide.data(), {32}, {1}};
      int32_t o = offset;
      void *args[] = {&din, &dout, &dw, &o};
      ASSERT_EQ(k->launch(args, 4, 1), KILN_SUCCESS);
      for (int i = 0; i < 32; ++i) {
        int e = offset + i;
        uint32_t want = e < n ? getBits(in, e, bits) : 0;
        EXPECT_EQ((uint32_t)wide[i], want) << "offset " << offset << " i " << i;
      }
      // Stored elements match; elements outside [offset, min(offset+32, n)) keep 0xA5 bits.
      std::vector<uint8_t> pattern(out.size(), 0xA5);
      for (int e = 0; e < n + 8; ++e) {
        if (e * bits + bits > (int)out.size() * 8)
          break;
        bool written = e >= offset && e < std::min(offset + 32, n);
        uint32_t want = written ? getBits(in, e, bits) : getBits(pattern, e, bits);
        EXPECT_EQ(getBits(out, e, bits), want) << "offset " << offset << " element " << e;
      }
    }
  }
}

TEST(HostJIT, ReportsDiagnosticsWithLocations) {
  std::string error;
  auto k = HostKernel::compile("kiln.func @f(%x: f32) {\n  %y = kiln.iota : tensor<4x4xi32>\n"
                               "  kiln.return\n}\n",
                               "f", {}, error, "bad.mlir");
  EXPECT_FALSE(k);
  EXPECT_NE(error.find("bad.mlir:2:8: error: 'kiln.iota' op result must be a 1-D tile"),
            std::string::npos)
      << error;
  k = HostKernel::compile(kReduce, "missing", {}, error);
  EXPECT_FALSE(k);
  EXPECT_NE(error.find("no kernel named 'missing'"), std::string::npos) << error;
}

TEST(HostJIT, RejectsWrongArgumentCount) {
  auto k = compile(kReduce, "reduce");
  ASSERT_TRUE(k);
  EXPECT_EQ(k->numParams(), 2u);
  void *args[1] = {nullptr};
  EXPECT_EQ(k->launch(args, 1, 1), KILN_ERROR_INVALID_ARGUMENT);
}

TEST(HostJIT, BindsConstexprParameters) {
  const char *src = R"(
kiln.func @fill(%out: !kiln.ptr<i32>, %V: i32 {kiln.constexpr}) {
  %i = kiln.iota : tensor<8xi32>
  %v = kiln.splat %V : tensor<8xi32>
  %p = kiln.addptr %out, %i : !kiln.ptr<i32>, tensor<8xi32> -> tensor<8x!kiln.ptr<i32>>
  kiln.scatter %p, %v : tensor<8x!kiln.ptr<i32>>, tensor<8xi32>
  kiln.return
}
)";
  auto k = compile(src, "fill", {"V=-42"});
  ASSERT_TRUE(k);
  std::vector<int32_t> out(8, 0);
  int32_t *p = out.data();
  void *args[] = {&p};
  ASSERT_EQ(k->launch(args, 1, 1), KILN_SUCCESS);
  for (int x : out)
    EXPECT_EQ(x, -42);
}

} // namespace
