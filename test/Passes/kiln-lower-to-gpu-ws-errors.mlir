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
