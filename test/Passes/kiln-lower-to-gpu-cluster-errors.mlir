// RUN: kiln-opt %s -split-input-file -kiln-lower-to-gpu="max-cluster=8 threads=128" -verify-diagnostics

// A program spread over a cluster keeps each thread's elements in place: ops that move
// them between threads or act once per program are rejected.
kiln.func @scan(%x: f32) attributes {cluster = 2} {
  %t = kiln.splat %x : tensor<512xf32>
  // expected-error @+1 {{is not supported in a program spread over a cluster of 2 thread blocks: its elements would cross thread blocks; drop `cluster` or express it with elementwise ops and reductions}}
  %s = kiln.scan sum %t {axis = 0 : i32} : tensor<512xf32> -> tensor<512xf32>
  kiln.return
}

// -----

kiln.func @small(%x: f32) attributes {cluster = 8} {
  %t = kiln.splat %x : tensor<512xf32>
  // expected-error @+1 {{only a 1-D tile of at least one element per thread reduces across the cluster}}
  %s = kiln.reduce max %t {axis = 0 : i32} : tensor<512xf32> -> f32
  kiln.return
}

// -----

kiln.func @atomic(%p: !kiln.ptr<f32>, %x: f32) attributes {cluster = 2} {
  // expected-error @+1 {{a scalar atomic runs once per program}}
  %old = kiln.atomic_add %p, %x : !kiln.ptr<f32>, f32 -> f32
  kiln.return
}
