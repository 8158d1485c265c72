// RUN: kiln-opt %s -split-input-file -kiln-lower-to-gpu="mma=nvidia-wgmma threads=256 max-shared-bytes=232448 dynamic-shared=1 max-cluster=8" -verify-diagnostics

// A producer warpgroup needs a pipelined loop to feed.
// expected-error @+1 {{warp_specialize: no top-level loop pipelines copies for warpgroup MMAs, so a producer would have nothing to do}}
kiln.func @nothing(%x: !kiln.ptr<f32>) attributes {warp_specialize} {
  kiln.return
}

// -----

// expected-error @+1 {{warp_specialize needs whole warpgroups of consumers (num_threads a multiple of 128), got 96}}
kiln.func @threads(%x: !kiln.ptr<f32>) attributes {warp_specialize, num_threads = 96} {
  kiln.return
}

// -----

// expected-error @+1 {{warp_specialize and cluster cannot be combined yet}}
kiln.func @both(%x: !kiln.ptr<f32>) attributes {warp_specialize, cluster = 2} {
  kiln.return
}

// -----

// expected-error @+1 {{warp_specialize runs one program per multiprocessor; min_programs_per_sm = 3 asks for more}}
kiln.func @occupancy(%x: !kiln.ptr<f32>) attributes {warp_specialize, min_programs_per_sm = 3} {
  kiln.return
}

// -----

// The copies' inputs must be computed before the first pipelined loop, where the
// consumers post them for the producer.
kiln.func @late(%a: !kiln.ptr<bf16>, %b: !kiln.ptr<bf16>, %c: !kiln.ptr<f32>, %K: i32)
    attributes {warp_specialize} {
  %c0 = arith.constant 0 : i32
  %c64 = arith.constant 64 : i32
  %one = arith.constant 1 : i64
  %n = arith.constant 4096 : i64
  %da = kiln.make_desc %a, [%n, %n], [%n, %one] : !kiln.ptr<bf16> -> !kiln.desc<bf16, 2>
  %db = kiln.make_desc %b, [%n, %n], [%n, %one] : !kiln.ptr<bf16> -> !kiln.desc<bf16, 2>
  %dc = kiln.make_desc %c, [%n, %n], [%n, %one] : !kiln.ptr<f32> -> !kiln.desc<f32, 2>
  %zero = arith.constant 0.0 : f32
  %acc0 = kiln.splat %zero : tensor<128x128xf32>
  %acc = scf.for %k = %c0 to %K step %c64 iter_args(%x = %acc0) -> (tensor<128x128xf32>) : i32 {
    %ta = kiln.load %da[%c0, %k] : !kiln.desc<bf16, 2>[i32, i32] -> tensor<128x64xbf16>
    %tb = kiln.load %db[%k, %c0] : !kiln.desc<bf16, 2>[i32, i32] -> tensor<64x128xbf16>
    %y = kiln.dot %ta, %tb, %x : tensor<128x64xbf16>, tensor<64x128xbf16> -> tensor<128x128xf32>
    scf.yield %y : tensor<128x128xf32>
  }
  // expected-error @+1 {{feeds a pipelined loop's copies but comes after the first pipelined loop; warp_specialize's producer needs it before}}
  %K2 = arith.muli %K, %K : i32
  %acc2 = scf.for %k = %c0 to %K2 step %c64 iter_args(%x = %acc) -> (tensor<128x128xf32>) : i32 {
    %ta = kiln.load %da[%c0, %k] : !kiln.desc<bf16, 2>[i32, i32] -> tensor<128x64xbf16>
    %tb = kiln.load %db[%k, %c0] : !kiln.desc<bf16, 2>[i32, i32] -> tensor<64x128xbf16>
    %y = kiln.dot %ta, %tb, %x : tensor<128x64xbf16>, tensor<64x128xbf16> -> tensor<128x128xf32>
    scf.yield %y : tensor<128x128xf32>
  }
  kiln.store %dc[%c0, %c0], %acc2 : !kiln.desc<f32, 2>[i32, i32], tensor<128x128xf32>
  kiln.return
}

// -----

// Consecutive pipelined loops share one pipeline: the same tiles in each.
kiln.func @shapes(%a: !kiln.ptr<bf16>, %b: !kiln.ptr<bf16>, %c: !kiln.ptr<f32>, %K: i32)
    attributes {warp_specialize} {
  %c0 = arith.constant 0 : i32
  %c64 = arith.constant 64 : i32
  %c128 = arith.constant 128 : i32
  %one = arith.constant 1 : i64
  %n = arith.constant 4096 : i64
  %da = kiln.make_desc %a, [%n, %n], [%n, %one] : !kiln.ptr<bf16> -> !kiln.desc<bf16, 2>
  %db = kiln.make_desc %b, [%n, %n], [%n, %one] : !kiln.ptr<bf16> -> !kiln.desc<bf16, 2>
  %dc = kiln.make_desc %c, [%n, %n], [%n, %one] : !kiln.ptr<f32> -> !kiln.desc<f32, 2>
  %zero = arith.constant 0.0 : f32
  %acc0 = kiln.splat %zero : tensor<128x128xf32>
  %acc = scf.for %k = %c0 to %K step %c64 iter_args(%x = %acc0) -> (tensor<128x128xf32>) : i32 {
    %ta = kiln.load %da[%c0, %k] : !kiln.desc<bf16, 2>[i32, i32] -> tensor<128x64xbf16>
    %tb = kiln.load %db[%k, %c0] : !kiln.desc<bf16, 2>[i32, i32] -> tensor<64x128xbf16>
    %y = kiln.dot %ta, %tb, %x : tensor<128x64xbf16>, tensor<64x128xbf16> -> tensor<128x128xf32>
    scf.yield %y : tensor<128x128xf32>
  }
  // expected-error @+1 {{pipelines other tiles than the kernel's first pipelined loop; warp_specialize shares one pipeline between loops}}
  %acc2 = scf.for %k = %c0 to %K step %c128 iter_args(%x = %acc) -> (tensor<128x128xf32>) : i32 {
    %ta = kiln.load %da[%c0, %k] : !kiln.desc<bf16, 2>[i32, i32] -> tensor<128x128xbf16>
    %tb = kiln.load %db[%k, %c0] : !kiln.desc<bf16, 2>[i32, i32] -> tensor<128x128xbf16>
    %y = kiln.dot %ta, %tb, %x : tensor<128x128xbf16>, tensor<128x128xbf16> -> tensor<128x128xf32>
    scf.yield %y : tensor<128x128xf32>
  }
  kiln.store %dc[%c0, %c0], %acc2 : !kiln.desc<f32, 2>[i32, i32], tensor<128x128xf32>
  kiln.return
}

// -----

// TMA fills outside the tensor with zeros: another padding keeps the copies on cp.async.
kiln.func @padding(%a: !kiln.ptr<bf16>, %b: !kiln.ptr<bf16>, %c: !kiln.ptr<f32>, %K: i32)
    attributes {warp_specialize} {
  %c0 = arith.constant 0 : i32
  %c64 = arith.constant 64 : i32
  %one = arith.constant 1 : i64
  %n = arith.constant 4096 : i64
  %da = kiln.make_desc %a, [%n, %n], [%n, %one] : !kiln.ptr<bf16> -> !kiln.desc<bf16, 2>
  %db = kiln.make_desc %b, [%n, %n], [%n, %one] : !kiln.ptr<bf16> -> !kiln.desc<bf16, 2>
  %dc = kiln.make_desc %c, [%n, %n], [%n, %one] : !kiln.ptr<f32> -> !kiln.desc<f32, 2>
  %zero = arith.constant 0.0 : f32
  %acc0 = kiln.splat %zero : tensor<128x128xf32>
  %acc = scf.for %k = %c0 to %K step %c64 iter_args(%x = %acc0) -> (tensor<128x128xf32>) : i32 {
    // expected-error @+1 {{cannot be copied by TMA, which warp_specialize needs (16-bit warpgroup-MMA operands with zero padding)}}
    %ta = kiln.load %da[%c0, %k] {padding = 1.0 : bf16} : !kiln.desc<bf16, 2>[i32, i32] -> tensor<128x64xbf16>
    %tb = kiln.load %db[%k, %c0] : !kiln.desc<bf16, 2>[i32, i32] -> tensor<64x128xbf16>
    %y = kiln.dot %ta, %tb, %x : tensor<128x64xbf16>, tensor<64x128xbf16> -> tensor<128x128xf32>
    scf.yield %y : tensor<128x128xf32>
  }
  kiln.store %dc[%c0, %c0], %acc : !kiln.desc<f32, 2>[i32, i32], tensor<128x128xf32>
  kiln.return
}

// -----

// The producer runs top-level loops only.
kiln.func @nested(%a: !kiln.ptr<bf16>, %b: !kiln.ptr<bf16>, %c: !kiln.ptr<f32>, %K: i32,
                  %twice: i1) attributes {warp_specialize} {
  %c0 = arith.constant 0 : i32
  %c64 = arith.constant 64 : i32
  %one = arith.constant 1 : i64
  %n = arith.constant 4096 : i64
  %da = kiln.make_desc %a, [%n, %n], [%n, %one] : !kiln.ptr<bf16> -> !kiln.desc<bf16, 2>
  %db = kiln.make_desc %b, [%n, %n], [%n, %one] : !kiln.ptr<bf16> -> !kiln.desc<bf16, 2>
  %dc = kiln.make_desc %c, [%n, %n], [%n, %one] : !kiln.ptr<f32> -> !kiln.desc<f32, 2>
  %zero = arith.constant 0.0 : f32
  %acc0 = kiln.splat %zero : tensor<128x128xf32>
  %acc = scf.for %k = %c0 to %K step %c64 iter_args(%x = %acc0) -> (tensor<128x128xf32>) : i32 {
    %ta = kiln.load %da[%c0, %k] : !kiln.desc<bf16, 2>[i32, i32] -> tensor<128x64xbf16>
    %tb = kiln.load %db[%k, %c0] : !kiln.desc<bf16, 2>[i32, i32] -> tensor<64x128xbf16>
    %y = kiln.dot %ta, %tb, %x : tensor<128x64xbf16>, tensor<64x128xbf16> -> tensor<128x128xf32>
    scf.yield %y : tensor<128x128xf32>
  }
  %acc2 = scf.if %twice -> (tensor<128x128xf32>) {
    // expected-error @+1 {{pipelines copies inside another op; warp_specialize pipelines top-level loops only}}
    %r = scf.for %k = %c0 to %K step %c64 iter_args(%x = %acc) -> (tensor<128x128xf32>) : i32 {
      %ta = kiln.load %da[%c0, %k] : !kiln.desc<bf16, 2>[i32, i32] -> tensor<128x64xbf16>
      %tb = kiln.load %db[%k, %c0] : !kiln.desc<bf16, 2>[i32, i32] -> tensor<64x128xbf16>
      %y = kiln.dot %ta, %tb, %x : tensor<128x64xbf16>, tensor<64x128xbf16> -> tensor<128x128xf32>
      scf.yield %y : tensor<128x128xf32>
    }
    scf.yield %r : tensor<128x128xf32>
  } else {
    scf.yield %acc : tensor<128x128xf32>
  }
  kiln.store %dc[%c0, %c0], %acc2 : !kiln.desc<f32, 2>[i32, i32], tensor<128x128xf32>
  kiln.return
}
