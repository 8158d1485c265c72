//===- Passes.td - Kiln's passes --------------------------------*- tablegen -*-===//
#ifndef KILN_PASSES_TD
#define KILN_PASSES_TD

include "mlir/Pass/PassBase.td"

def KilnSpecialize : Pass<"kiln-specialize", "::mlir::ModuleOp"> {
  let summary = "Bind kiln.constexpr kernel parameters to compile-time values";
  let description = [{
    Replaces every use of a scalar kernel parameter marked `kiln.constexpr` by an
    `arith.constant` of the value given in `constants` and removes the parameter from
    the signature, so later passes see static values (loop bounds, strides). A
    constexpr parameter without a value is an error at the parameter's location.

    ```mlir
    // -kiln-specialize="constants=BLOCK=128"
    kiln.func @k(%x: !kiln.ptr<f32>, %BLOCK: i32 {kiln.constexpr}) { ... }
    // becomes
    kiln.func @k(%x: !kiln.ptr<f32>) { %BLOCK = arith.constant 128 : i32 ... }
    ```
  }];
  let options = [
    ListOption<"constants", "constants", "std::string",
               "NAME=VALUE bindings for constexpr parameters">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def KilnStreamFusion : Pass<"kiln-stream-fusion", "::mlir::ModuleOp"> {
  let summary = "Tile a kernel's streamed axis into blocks, fusing normalised reductions "
                "with the online normalizer";
  let description = [{
    A tile with a `?` dimension spans a whole streamed axis: all keys of attention,
    a whole softmax row. Written that way, attention is three lines of tile IR
    (`S = Q·Kᵀ`, `P = softmax(S)`, `O = P·V`) that do not fit on chip. This pass
    rewrites every such kernel into loops over blocks of `stream_block` elements of
    the axis (the kernel's attribute, else the `block` option, else 64):

    - reductions along the axis (`kiln.reduce` sum/max/min, `kiln.dot` contracting
      it) become loop-carried accumulators;
    - a value `exp(x - m)` whose `m` is still being reduced is computed against the
      running value and carries a deferred factor `exp(m_run - m)`: sums and
      contractions of it are rescaled by `exp(m_old - m_new)` each block (the online
      normalizer), and a running `m` of -inf shifts by 0 so fully masked blocks add 0;
    - division or multiplication by a row value still being reduced (`p = e / l`)
      is deferred to the reduction's result (`O = (Σ e·V) / l`);
    - what cannot be fused (a store of normalised values, a reduction of values that
      depend non-linearly on another reduction) goes to a further loop over the axis
      that uses the earlier loops' final values: a long-row softmax becomes one loop
      for the maximum and sum and one that writes.

    An attention kernel without `stream_block` (a product over the streamed keys of
    values derived from `Q·Kᵀ`) gets its key block, and its `num_stages` when it has
    none, from the IO-aware schedule model of `chip` for its query block and head
    dimension; other kernels default to 64.

    Elements past the axis' extent (the first streamed load's descriptor size minus
    its offset) are masked, preferably by a select the kernel already has (its
    condition gets `&& key < extent`). When every reduction of a loop ignores
    positions where a condition `key <= X` (or `key < X`) is false -- a -inf fill
    before max and exp, a 0 fill before sums and contractions -- the loop stops at
    the largest `X`: causal attention skips the blocks after its diagonal. Whole
    blocks before the first position any such mask or the extent could exclude run
    in a loop of their own without the masks (all of them for full attention, those
    below the diagonal for causal); the rest run masked in a second loop.

    ```mlir
    %s = kiln.dot %q, %kt, %z : tensor<64x64xbf16>, tensor<64x?xbf16> -> tensor<64x?xf32>
    %m = kiln.reduce max %s {axis = 1 : i32} : tensor<64x?xf32> -> tensor<64xf32>
    ...
    // becomes scf.for over blocks of 64 keys carrying m, l and the accumulator.
    ```
  }];
  let options = [
    Option<"block", "block", "int64_t", /*default=*/"0",
           "Block size along the streamed axis for kernels without stream_block "
           "(0: 64)">,
    Option<"forceBlock", "force-block", "int64_t", /*default=*/"0",
           "Block size that overrides every kernel's stream_block (0: none)">,
    Option<"chip", "chip", "std::string", /*default=*/"\"\"",
           "Chip whose IO-aware attention schedule (lib/Schedule) sizes the key block "
           "and pipeline depth of attention kernels without stream_block">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
                           "::mlir::scf::SCFDialect"];
}

def KilnLowerToHost : Pass<"kiln-lower-to-host", "::mlir::ModuleOp"> {
  let summary = "Lower tile IR to tensor/linalg/scf/LLVM ops for the host CPU target";
  let description = [{
    Turns each `kiln.func` into a private `func.func` (renamed `kiln_kernel_<name>`, with
    internal linkage so only the entry point is exported) that runs one program instance and takes
    the program id and grid as six trailing i32 parameters, plus an entry point
    `kiln_program_<name>(void **args, pid x/y/z, grid x/y/z)` that unpacks the
    arguments (the host runtime's calling convention). Tiles stay tensors: memory
    accesses become `tensor.generate`/`scf` loops over LLVM loads and stores with
    bounds masks, `kiln.dot` becomes `linalg.matmul`, reductions `linalg.reduce`.
    Pointers become `!llvm.ptr` (scalars) or `i64` addresses (tiles); sub-byte
    elements are packed little-endian and stored with atomic read-modify-write.
    The standard bufferization and LLVM conversion passes finish the job
    (see `kiln-host-pipeline`).

    ```mlir
    kiln.func @k(%x: !kiln.ptr<f32>) { ... }
    // becomes
    func.func private @kiln_kernel_k(%x: !llvm.ptr, %px: i32, %py: i32, %pz: i32,
                                     %gx: i32, %gy: i32, %gz: i32)
    func.func @kiln_program_k(%args: !llvm.ptr, %px: i32, ...) { ... call @kiln_kernel_k ... }
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::func::FuncDialect",
    "::mlir::linalg::LinalgDialect", "::mlir::LLVM::LLVMDialect",
    "::mlir::math::MathDialect", "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect"];
}

def KilnLowerToGPU : Pass<"kiln-lower-to-gpu", "::mlir::ModuleOp"> {
  let summary = "Lower tile IR to a gpu.module, distributing tiles over the threads of a block";
  let description = [{
    Each `kiln.func` becomes a `gpu.func` kernel in `gpu.module @kiln_kernels`; a
    program instance is one thread block of `threads` threads. Layout assignment puts
    each tile in registers in a blocked row-major layout (thread t owns runs of
    consecutive elements, neighbouring threads neighbouring runs, so global accesses
    coalesce), in MMA accumulator fragments (a dot's result, kept in registers across
    a K loop), or in a swizzled shared-memory tile (a load read only by dots, copied
    with cp.async and, inside a loop, `stages - 1` iterations ahead). Elementwise code
    stays in registers. Reductions combine in registers, across lanes with
    `gpu.shuffle xor` and across warps through shared memory; ops that move elements
    between threads (broadcast, transpose, reductions along an axis, scans) and layout
    conversions go through shared memory, whose total is checked against
    `max-shared-bytes`. The result is
    target-neutral; `kiln-nvidia-pipeline` and the AMD and Intel pipelines lower it.
    Ops without a GPU lowering yet are reported at their location.

    ```mlir
    kiln.func @k(%x: !kiln.ptr<f32>) { %p = kiln.program_id 0 : i32 ... }
    // becomes
    gpu.module @kiln_kernels {
      gpu.func @k(%x: !llvm.ptr) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
        %b = gpu.block_id x ...
      }
    }
    ```
  }];
  let options = [
    Option<"threads", "threads", "int64_t", "128", "threads per program instance">,
    Option<"warpSize", "warp-size", "int64_t", "32", "threads per warp (wavefront)">,
    Option<"maxSharedBytes", "max-shared-bytes", "int64_t", "49152",
           "workgroup memory a kernel may use (static shared memory: 48 KiB on NVIDIA)">,
    Option<"mma", "mma", "std::string", "\"\"",
           "matrix instruction for kiln.dot: '' (CUDA-core FMA), nvidia-m16n8k16 (mma.sync, "
           "with ldmatrix operands and cp.async copies), nvidia-wgmma (sm_90a warpgroup MMAs "
           "where the tile fits, mma.sync elsewhere), amd-mfma (32x32x8, wave64), amd-wmma "
           "(16x16x16, wave32) or intel-dpas (8x16x16, sub-group 16, operands by 2D block "
           "reads)">,
    Option<"dynamicShared", "dynamic-shared", "bool", "false",
           "address one dynamic shared-memory block per module (extern, sized at launch from "
           "each kernel's kiln.shared_memory_bytes) instead of a static one per kernel">,
    Option<"tma", "tma", "bool", "true",
           "with nvidia-wgmma: pipelined operand tiles come by TMA (tensor maps built by each "
           "program in a global scratch parameter, copies completing on mbarriers)">,
    Option<"pingPong", "ping-pong", "bool", "false",
           "with warp_specialize: the consumer warpgroups take turns at issuing the MMAs of "
           "an overlapped loop (see intra-overlap; named barriers pass the turn), so one "
           "warpgroup's softmax overlaps another's MMAs">,
    Option<"intraOverlap", "intra-overlap", "bool", "true",
           "with warp_specialize: a pipelined loop's last MMA "
           "group (attention's P·V) is issued in the next iteration right after its first "
           "(S = Q·Kᵀ), so each warpgroup's softmax runs beside its own P·V "
           "(FlashAttention-3's intra-warpgroup overlap)">,
    Option<"maxCluster", "max-cluster", "int64_t", "1",
           "thread blocks a kernel's `cluster` may spread one program over (8 on sm_90a: "
           "thread-block clusters with distributed shared memory); 1 ignores `cluster`">,
    Option<"stages", "stages", "int64_t", "3",
           "shared-memory stages of a pipelined loop: copies run stages - 1 iterations ahead "
           "(1 turns pipelining off)">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::gpu::GPUDialect", "::mlir::LLVM::LLVMDialect",
    "::mlir::math::MathDialect", "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect",
    "::mlir::NVVM::NVVMDialect", "::mlir::ROCDL::ROCDLDialect", "::mlir::xevm::XeVMDialect"];
}

def KilnExpandHostAtomics : Pass<"kiln-expand-host-atomics", "::mlir::ModuleOp"> {
  let summary = "Turn the host lowering's atomic helper calls into llvm.atomicrmw";
  let description = [{
    `kiln-lower-to-host` expresses atomics as calls to private declarations named
    `__kiln_atomic_<op>_<type>` so that bufferization and buffer deallocation, which
    reject operations with unknown memory effects, see an ordinary call. After those
    passes this one replaces each call by `llvm.atomicrmw` (sequentially consistent
    for add and fadd, monotonic for the bit merges of packed stores) and erases the
    declarations.

    ```mlir
    %old = func.call @__kiln_atomic_fadd_f32(%p, %v) : (!llvm.ptr, f32) -> f32
    // becomes
    %old = llvm.atomicrmw fadd %p, %v seq_cst : !llvm.ptr, f32
    ```
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def KilnLowerHostCopies : Pass<"kiln-lower-host-copies", "::mlir::ModuleOp"> {
  let summary = "Rewrite memref.copy as linalg.copy so copies become loops, not library calls";
  let description = [{
    Bufferization copies strided views (slices of tiles) with `memref.copy`, which the
    LLVM lowering turns into a call to the `memrefCopy` runtime function. Kiln's host
    binaries link no MLIR runtime, so this pass rewrites each copy as `linalg.copy`,
    which `convert-linalg-to-loops` lowers to plain loops.

    ```mlir
    memref.copy %a, %b : memref<4xf32, strided<[8]>> to memref<4xf32>
    // becomes
    linalg.copy ins(%a : memref<4xf32, strided<[8]>>) outs(%b : memref<4xf32>)
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

#endif
