//===- KernelLowering.h - the GPU lowering of one kernel, shared by its parts -===//
//
// KilnLowerToGPU lowers each kernel with one KernelLowering: its state (the registers
// of every tile, shared-memory arenas, pipeline stages, the warp-specialisation plan)
// lives here, and its member functions are defined by concern in passes/GPU/*.cpp, one
// file each (the declarations at the end of the class are grouped by file).
//
// Each program instance becomes one thread block (workgroup) of `threads` threads, and
// each tile value lives where LayoutAssignment put it:
//  - Blocked registers, row-major: thread t holds `vec` consecutive elements, then the
//    chunk `threads * vec` further on, and so on, so neighbouring threads touch
//    neighbouring addresses (coalesced) in contiguous runs (vector access). Element k of
//    thread t has the linear index ((k / vec) * threads + t) * vec + k % vec.
//  - MMA accumulator registers: the m16n8 C fragments of a grid of warps; a dot keeps
//    its accumulator there across a K loop and feeds its atoms from shared memory with
//    ldmatrix.
//  - Shared tiles: loads read only by dots are copied global -> shared (cp.async, 16
//    bytes per thread, into a swizzle the layout library picks for the copy and for
//    ldmatrix); inside a loop those copies run `stages - 1` iterations ahead.
// A program spread over a thread-block cluster (`cluster` blocks, NVIDIA) distributes
// blocked tiles over all its threads, block r's thread t acting as thread
// r * threads + t; a reduction to a scalar then combines the blocks' partials through
// distributed shared memory.
// Consumers needing another layout convert through shared memory. Shared memory is two
// arenas per kernel: persistent (shared tiles, pipeline stages) and scratch (live within
// one op's lowering, reused by the next op after a barrier). The output is
// target-neutral (gpu, scf, arith, math, LLVM memory ops) except for the NVIDIA atoms
// the `mma` option enables; a target pipeline lowers it to NVVM or ROCDL.
//
#ifndef KILN_PASSES_GPU_KERNELLOWERING_H
#define KILN_PASSES_GPU_KERNELLOWERING_H

#include "dialects/Kiln/KilnDialect.h"
#include "kiln/Layout/Analysis.h"
#include "kiln/Layout/Atoms.h"
#include "kiln/Schedule/Attention.h"
#include "passes/ElementLowering.h"
#include "passes/LayoutAssignment.h"
#include "passes/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

#include <limits>

namespace mlir::kiln::lowering {

/// With dynamic shared memory, every kernel of the module addresses this block (CUDA's
/// `extern __shared__`) and a launch passes the kernel's `kiln.shared_memory_bytes`;
/// otherwise each kernel declares its own, `__kiln_smem_<kernel>`.
inline constexpr StringLiteral kDynamicShared = "__kiln_dynamic_smem";
inline constexpr StringLiteral kSharedBytesAttr = "kiln.shared_memory_bytes";
/// Thread blocks per program (a cluster); absent for one.
inline constexpr StringLiteral kClusterAttr = "kiln.cluster";

/// A kernel's own static shared-memory block (targets without dynamic shared memory).
inline std::string staticArenaSymbol(StringRef kernel) { return ("__kiln_smem_" + kernel).str(); }

/// A tile type with the layout its registers follow.
struct Dist {
  RankedTensorType type;
  TileLayout layout;
};

/// A tile in shared memory: `rows` x `cols` elements of `elem` (as its storage type),
/// stored as column blocks of `blockCols`, each row-major (rows x blockCols), element
/// offsets permuted by `swizzle`.
struct SharedTile {
  Value base; // !llvm.ptr<3>
  int64_t rows = 0, cols = 0, blockCols = 0;
  Type elem;
  ::kiln::layout::Swizzle swizzle;
  /// Element (r, c) of the tile is stored at (c, r): rows/cols/blockCols describe the
  /// stored (transposed) tile. A wgmma B operand read from a column-major view of a
  /// row-major tensor (Kᵀ in attention) is stored K-major this way.
  bool transposed = false;
};

/// A TMA tensor map in global memory (`address`, i64) and whether TMA may address the
/// tensor at all (`usable`, uniform i1: 16-byte aligned base and row pitch, unit-stride
/// rows); when not, the same copies go by cp.async.
struct TensorMap {
  Value address, usable;
};
inline constexpr int64_t kTensorMapBytes = 128;
inline constexpr StringLiteral kScratchBytesAttr = "kiln.global_scratch_bytes";

/// A dot-only load on Intel: nothing is read at the load; each dot reads its fragments
/// with 2D block reads when `direct` (uniform i1) says the block-read rules hold for this
/// tensor and offset, else lane by lane.
struct BlockIOTile {
  mutable LoadOp load;
  SmallVector<Value> offsets;
  Value direct;
  Value widthBytes, height, pitchBytes; // i32, for the 2D block reads
};

/// The swizzle for a `rows` x `cols` tile of 16-bit elements written in 16-byte chunks
/// (one per thread, row-major) and read by ldmatrix.x4, chosen by counting bank conflicts.
::kiln::layout::Swizzle ldmatrixSwizzle(int64_t rows, int64_t cols);

/// The TV tables of a MatrixAtom (f16 and bf16 share the fragments) from the layout
/// library.
const ::kiln::layout::MmaAtom &matrixAtom(int64_t atom);

/// Lowers the body of one kernel into a gpu.func.
class KernelLowering {
public:
  KernelLowering(gpu::GPUFuncOp func, FuncOp kernel, const DistributionTarget &target,
                 int64_t stages, bool dynamicShared, bool useTma, bool warpSpecialize = false,
                 bool pingPong = false, bool intraOverlap = true)
      : warpSpecialized(warpSpecialize), pingPong(pingPong), intraOverlap(intraOverlap),
        func(func), threads(target.threads),
        spread(target.threads * target.cluster),
        cluster(target.cluster), warpSize(target.warpSize), target(target),
        stages(stages), dynamicShared(dynamicShared), useTma(useTma), layouts(kernel, target),
        b(OpBuilder::atBlockBegin(&func.getBody().front())) {}

  /// Lowers `kernel`'s body into the gpu.func (KilnLowerToGPU.cpp).
  LogicalResult lower(FuncOp kernel);

private:
  // --- warp specialisation (sm_90a) ----------------------------------------------
  //
  // The program's threads [0, threads) are the consumers; 128 more (a producer
  // warpgroup) run only the kernel's top-level pipelined loops' copies: per stage a
  // `full` mbarrier (TMA bytes landed) and an `empty` one (every consumer thread done
  // reading). Both sides carry (stage, phase) from loop to loop, so consecutive loops
  // (a causal kernel's unmasked and masked key loops) share one pipeline. The consumers
  // compute what the producer needs (loop bounds, descriptors, copy offsets) and post
  // it in a shared mailbox before their first pipelined loop.
  bool warpSpecialized = false;
  /// Lowering the consumers' side: barriers name the consumers only.
  bool consumerSide = false;
  static constexpr int64_t kProducerThreads = ::kiln::schedule::kProducerThreads;
  DenseMap<Operation *, SmallVector<LoadOp>> wsLoads;
  /// Loads before the first pipelined loop that only later ops read: the consumers copy
  /// them once the mailbox is posted (see postMailbox).
  SmallPtrSet<Operation *, 4> deferredLoads;
  DenseMap<Operation *, SetVector<Operation *>> wsSlices;
  SmallVector<scf::ForOp> wsLoops;
  /// Values the consumers post for the producer, one 8-byte slot per scalar (a
  /// descriptor's base, sizes and strides each take one).
  SmallVector<Value> mailboxValues;
  Value mailbox;
  SmallVector<SharedTile> wsBuffers;
  Value fullBarriers, emptyBarriers, handOffBarriers, wsTmaOk;
  /// Where the next pipelined loop starts: its stage and that stage's phase.
  Value wsStage, wsPhase;
  /// Consumer warpgroups take turns at issuing the MMAs of overlapped loops (see
  /// lowerOverlappedFor).
  bool pingPong = false;
  /// Loops with a producer issue the last MMA group of an iteration in the next one,
  /// after its first (see lowerOverlappedFor).
  bool intraOverlap = true;
  /// While lowering a loop that takes turns: the MMA group a turn starts with (waits
  /// for it) and the one it ends with (passes it on after).
  DotOp turnStart, turnEnd;
  static constexpr int64_t kFirstTurnBarrier = 5;

  gpu::GPUFuncOp func;
  /// Threads of one block; of the whole program (`cluster` blocks); blocks per program.
  int64_t threads, spread, cluster, warpSize;
  DistributionTarget target;
  int64_t stages;
  bool dynamicShared;
  bool useTma;
  LayoutAssignment layouts;
  OpBuilder b;
  Value threadId;
  /// This thread's index among the program's threads (threadId without a cluster).
  Value spreadId;
  /// A cluster barrier arrived at after the last exchange, not yet waited for: blocks
  /// may still read this block's partials until it completes.
  bool clusterArrivePending = false;
  /// Softmax normalizers over a cluster (normalizerSum): the sum's block maximum, and
  /// the exponentials it sums.
  DenseMap<Operation *, Value> localMax;
  DenseMap<Operation *, math::ExpOp> normalizerExp;
  IRMapping scalars;
  DenseMap<Value, SmallVector<Value>> tiles;
  DenseMap<Value, Value> splatScalars;
  DenseMap<Value, SharedTile> sharedTiles;
  DenseMap<Value, BlockIOTile> blockIOTiles;
  DenseMap<Value, DescParts> descs;
  /// Registers of a tile converted to another layout, by (tile, layout key); dropped on
  /// leaving a region so no conversion is used outside the block it was made in.
  DenseMap<std::pair<Value, int64_t>, SmallVector<Value>> converted;
  /// Pipelined loads of the loop being lowered: their stage-buffer tile per iteration.
  DenseMap<Value, SharedTile> pipelined;
  /// TMA tensor maps of the pipelined loads of the loop being lowered.
  DenseMap<Operation *, TensorMap> tensorMaps;
  /// The trailing kernel parameter: global scratch, `kTensorMapBytes` per map and program.
  Value scratchArg;
  int64_t tensorMapCount = 0;
  /// Inside a loop whose warpgroup MMAs may stay in flight into the next iteration.
  bool deferWgmmaWait = false;
  /// Tiles whose warpgroup MMAs are in flight, oldest first (one commit group each).
  SmallVector<Value> pendingWgmma;
  /// Pipelined loads (indices) released in `stage` as soon as a wait finds `dot`'s MMAs
  /// done: an overlapped loop's head loads, which the producer may then refill while
  /// the softmax runs.
  struct EarlyRelease {
    Value dot, stage;
    SmallVector<int64_t> loads;
  };
  std::optional<EarlyRelease> earlyRelease;
  /// Warpgroup-MMA dots whose accumulation is a run-time flag (false on a loop's first
  /// iteration, when the accumulator registers hold nothing yet).
  DenseMap<Operation *, Value> wgmmaAccumulate;

  // --- shared memory ------------------------------------------------------------

  // One dynamic shared-memory block per kernel: persistent buffers first, then scratch,
  // whose offset is known once the persistent total is (patched at the end).
  Value persistentArena, scratchArena;
  LLVM::ConstantOp scratchOffset;
  // persistentBytes is the persistent arena's top (pipelined loops free their stages at
  // their end, so sequential loops share them); persistentHigh its high-water mark.
  int64_t persistentBytes = 0, persistentHigh = 0, scratchCursor = 0, scratchBytes = 0;
  bool scratchFenced = false;

  /// What one warpgroup-MMA dot reads: A as packed bf16/f16 pairs (an A already in this
  /// warpgroup's accumulator layout: attention's P) or as a shared tile, and B's shared
  /// tile. `scratch`: an operand was staged in scratch, which the next op may reuse, so
  /// the MMAs must finish before it.
  struct WgmmaOperands {
    SmallVector<Value> aPacked;
    SharedTile a, b;
    bool scratch = false;
  };

  /// FlashAttention-3's intra-warpgroup overlap, for a loop with a producer: the loop's
  /// last dot (attention's P·V) and the elementwise and shape ops that only prepare its
  /// accumulator (the rescale) are the tail. Iteration j issues its first dot (S = Q·Kᵀ),
  /// then the tail of iteration j - 1 (the head values it reads carried over, its copied
  /// operand from the stage before), then the rest of its head, so the softmax runs while
  /// the tensor cores do the previous P·V. The tail may read the accumulator it updates,
  /// values of the head and pipelined loads nothing else reads; the head must not read
  /// that accumulator.
  struct OverlapPlan {
    DotOp first, tail;               ///< the first dot; the last (the tail's dot)
    SetVector<Operation *> ops;      ///< the tail's ops
    SetVector<Value> carried;        ///< head values the tail reads, one iteration later
    SmallVector<LoadOp> tailLoads;   ///< pipelined loads only the tail reads
    unsigned acc = 0;                ///< the loop-carried value the tail accumulates
  };
  /// A loop lowerFor software-pipelines: the loads copied ahead into stage buffers and
  /// how their copies complete.
  struct PipelinedLoop {
    scf::ForOp op;
    bool ws = false;               ///< a producer warpgroup issues the copies
    SetVector<Operation *> slice;  ///< the ops the copies' offsets need
    SmallVector<LoadOp> ahead;     ///< loads copied ahead, one stage buffer each
    SmallVector<SharedTile> buffers;
    Value barriers, tmaOk;         ///< per-stage mbarriers; whether TMA copies (i1)
    bool overlapMma = false;       ///< warpgroup MMAs stay in flight into the next iteration
    int64_t distance = 0;          ///< iterations the copies run ahead
  };


  // GPU/Distribution.cpp: tiles over threads: register layouts, coordinates, conversions
  Value cst(Location loc, int64_t v);
  Dist distOf(Value v);
  Dist blocked(Type t);
  bool isMma(const Dist &d) const;
  bool isRows(const Dist &d) const;
  int64_t warpRows(const Dist &d) const;
  bool replicated(const Dist &d) const;
  int64_t perThread(const Dist &d) const;
  int64_t vecWidth(const Dist &d) const;
  Value linearIndex(Location loc, const Dist &d, int64_t k);
  Value tvIndex(Location loc, const ::kiln::layout::Layout &tv, int64_t v);
  SmallVector<Value> coordinates(Location loc, const Dist &d, int64_t k);
  LogicalResult checkTile(Operation *op, Type type);
  Value ownerMask(Location loc, const Dist &d);
  Value andMask(Location loc, Value a, Value m);
  Type registerType(Type t);
  LogicalResult checkNumeric(Operation *op, Type tile);
  Value scalar(Value v);
  ArrayRef<Value> regs(Value v, const Dist &d);
  Value element(Value v, int64_t k, const Dist &d);
  void prepare(Operation *op, const Dist &d);
  Value toShared(Location loc, Value v);
  static int64_t storageBytes(Type storage);
  Value readShared(Location loc, Value buf, Value linear, Type elem);
  SmallVector<Value> convert(Value v, const Dist &d);
  Value linearize(Location loc, ArrayRef<int64_t> shape, ArrayRef<Value> coords);

  // GPU/SharedMemory.cpp: shared-memory arenas, swizzled tiles, copies into them
  Type sharedPtrType();
  std::string arenaSymbol();
  Value arena(bool persistent);
  Value sharedAlloc(Location loc, int64_t bytes, bool persistent, int64_t align = 16);
  Value persistentAlloc(Location loc, int64_t bytes, int64_t align);
  void syncThreads(Location loc);
  void namedBarrier(Location loc, int64_t id, int64_t count);
  void beginOp();
  void createArenas(Location loc);
  Value sharedElementPtr(Location loc, Value base, Value index, Type storage);
  void storeShared(OpBuilder &bb, Location loc, Value base, Value index, Value value);
  Value loadShared(Location loc, Value base, Value index, Type storage);
  Value tileOffset(Location loc, const SharedTile &s, Value row, Value col);
  SharedTile sharedTileFor(RankedTensorType t, Value base, bool warpgroup,
                           bool transposed = false);
  bool kMajorOperand(LoadOp load);
  int64_t tileBytes(RankedTensorType t);
  static int64_t swizzled(const SharedTile &s, int64_t offset);
  Value splitOffset(Location loc, const SharedTile &s, Value varRow, int64_t rowMask,
                    int64_t constRow, Value varCol, int64_t colMask, int64_t constCol);
  static int64_t below(int64_t bound);
  Value blockFastPath(Location loc, const DescParts &desc, ValueRange offsets, int64_t rows,
                      int64_t cols, int64_t elemBytes);
  void copyToShared(LoadOp op, ValueRange offsets, const SharedTile &dst);
  LogicalResult lowerSharedLoad(LoadOp op);
  void fenceForAsyncProxy(Location loc);
  void fenceUnlessTma(Location loc, Value tmaOk);
  SharedTile operandTile(Value v, bool warpgroup, bool transposed = false);

  // GPU/ControlFlow.cpp: walking a kernel: op dispatch, elementwise ops, branches
  LogicalResult lowerBlock(Block &block);
  LogicalResult lowerOp(Operation *op);
  LogicalResult mapElementwise(Operation *op,
                               function_ref<Value(int64_t, const Dist &)> perElement);
  SmallVector<Value> flatten(ValueRange values, ValueRange like);
  void unflatten(ValueRange originals, ValueRange flat);
  bool isZeroSplat(Value v);
  LogicalResult lowerIf(scf::IfOp op);

  // GPU/MemoryOps.cpp: global loads, stores and atomics of blocked tiles
  LogicalResult lowerAddPtr(AddPtrOp op);
  Value atomic(OpBuilder &bb, Location loc, LLVM::AtomicBinOp kind, Value ptr, Value val);
  bool vectorizable(RankedTensorType t, int64_t vec);
  std::pair<Value, Value> chunkFastPath(Location loc, Type elem, const DescParts &desc,
                                        ValueRange offsets, ArrayRef<Value> first, int64_t vec);
  SmallVector<Value> offsetsOf(ValueRange offsets);
  Value guardedLoad(OpBuilder &bb, Location l, LoadOp op, const DescParts &desc,
                    ValueRange offsets, ArrayRef<Value> coords);
  LogicalResult lowerLoad(LoadOp op);
  LogicalResult lowerStore(StoreOp op);
  LogicalResult lowerAtomicAdd(AtomicAddOp op);

  // GPU/Gathers.cpp: pointer-tile gathers and scatters
  LogicalResult lowerGather(GatherOp op);
  LogicalResult lowerScatter(ScatterOp op);

  // GPU/ReduceScan.cpp: reductions, scans, broadcasts and transposes across threads
  Value broadcastFromThread0(Location loc, Value v);
  LogicalResult lowerReduce(ReduceOp op);
  LogicalResult lowerBroadcast(BroadcastOp op);
  LogicalResult lowerTranspose(TransposeOp op);
  Value combineAlong(Location loc, Value buf, RankedTensorType in, int64_t axis,
                     SmallVector<Value> coords, Value lo, Value hi, Value init,
                     std::optional<CombineKind> kind, Region &combiner);
  LogicalResult lowerRowReduceMMA(ReduceOp op, const Dist &src);
  LogicalResult lowerReduceAxis(ReduceOp op);
  LogicalResult lowerScan(ScanOp op);

  // GPU/Cluster.cpp: programs over thread-block clusters: reductions across blocks
  Value combineOverCluster(Location loc, Operation *op, Value partial,
                           function_ref<Value(Value, Value)> combine);
  SmallVector<SmallVector<Value>> exchangeOverCluster(Location loc, Operation *op,
                                                      ValueRange values);
  void releaseSlot(Location loc, Operation *op);
  ReduceOp normalizerSum(ReduceOp max);
  Value combineNormalizer(Location loc, ReduceOp sum, Value mb, Value sb);
  Value isNegInf(Location loc, Value x);
  void finishClusterExchange(Location loc);

  // GPU/Dot.cpp: kiln.dot on the matrix units: mma.sync, wgmma, MFMA/WMMA, DPAS
  SmallVector<Value> ldmatrix(Location loc, const SharedTile &s, Value varRow, int64_t rowMask,
                              int64_t constRow, Value varCol, int64_t colMask, int64_t constCol,
                              bool transpose);
  LogicalResult lowerDotMMA(DotOp op, const TileLayout &layout);
  Value wgmmaDescriptor(Location loc, Value start, int64_t leadingBytes);
  static int64_t wgmmaDescriptorHigh(int64_t strideBytes);
  bool wgmmaAInRegisters(DotOp op, const TileLayout &layout);
  SmallVector<Value> packWgmmaA(Location loc, ArrayRef<Value> a, int64_t K);
  WgmmaOperands wgmmaOperands(DotOp op, const TileLayout &layout);
  LogicalResult lowerDotWgmma(DotOp op, const TileLayout &layout);
  SmallVector<Value> issueWgmma(DotOp op, const WgmmaOperands &in, ArrayRef<Value> accIn,
                                Value accumulate);
  void waitWgmma(Location loc, Value v = Value());
  void waitWgmmaFor(Operation *op);
  LogicalResult lowerBlockIOLoad(LoadOp op);
  Value toI32(Location loc, Value v);
  LogicalResult lowerDotAtom(DotOp op, const TileLayout &layout);
  LogicalResult lowerDot(DotOp op);

  // GPU/Pipelining.cpp: software-pipelined loops: stages of shared-memory copies
  SmallVector<LoadOp> pipelinableLoads(scf::ForOp loop, SetVector<Operation *> &slice,
                                       bool lowered = true);
  bool carriedWgmmaOnly(scf::ForOp loop);
  void issueStage(scf::ForOp loop, ArrayRef<LoadOp> loads, const SetVector<Operation *> &slice,
                  ArrayRef<SharedTile> buffers, Value iv, Value stage, Value barriers,
                  Value tmaOk);
  SharedTile stageOf(SharedTile buffer, Value stage, RankedTensorType t);
  void startAccumulatorsUndefined(scf::ForOp op, SmallVectorImpl<Value> &init,
                                  SmallVectorImpl<std::pair<int64_t, int64_t>> &zeroed,
                                  SmallVectorImpl<DotOp> &zeroedDots);
  scf::IfOp branchUnlessLoopRuns(scf::ForOp op, ArrayRef<Value> init, bool ws);
  void setUpStages(PipelinedLoop &p, Value lb, Value step);
  std::pair<Value, Value> beginPipelinedIteration(PipelinedLoop &p, scf::ForOp loop,
                                                  int64_t stateAt, Value step);
  void releaseIterationStages(PipelinedLoop &p, scf::ForOp loop, Value lb, Value readStage);
  void finishPipelinedLoop(PipelinedLoop &p, scf::ForOp loop, int64_t stateAt, Value lb,
                           int64_t arenaMark);
  LogicalResult lowerFor(scf::ForOp op);

  // GPU/TensorMaps.cpp: TMA tensor maps and bulk copies, mbarriers
  Value inlineAsm(Location loc, Type result, StringRef text, StringRef constraints,
                  ValueRange operands, bool sideEffects = true);
  void asmVoid(Location loc, StringRef text, StringRef constraints, ValueRange operands);
  Value sharedAddress(Location loc, Value p);
  bool tmaEligible(LoadOp load);
  Value scratch(Location loc);
  Value tmaUsable(Location loc, LoadOp load);
  TensorMap buildTensorMap(Location loc, LoadOp load);
  Value stageBarrier(Location loc, Value barriers, Value stage);
  void issueTma(Location loc, ArrayRef<LoadOp> loads, ArrayRef<SmallVector<Value>> offsets,
                ArrayRef<SharedTile> tiles, Value bar);
  void initBarrier(Location loc, Value bar, Value count);
  void initBarrier(Location loc, Value bar, int64_t count);
  void arriveBarrier(Location loc, Value bar);
  void waitBarrier(Location loc, Value bar, Value parity);

  // GPU/WarpSpecialize.cpp: a producer warpgroup and the loops it feeds; intra-warpgroup overlap
  Value warpgroup(Location loc);
  bool takeTurns();
  void turnBarrier(Location loc, StringRef instr, int64_t ahead);
  void turnEdge(Location loc, bool entering);
  LogicalResult lowerWarpSpecialized(FuncOp kernel);
  Value allTmaUsable(Location loc);
  LogicalResult postMailbox(Location loc);
  void handOff(Location loc, int64_t i);
  void readMailbox(Location loc);
  SmallVector<std::pair<Value, Value>> mailboxParts(Location loc);
  LogicalResult analyseWarpSpecialization(FuncOp kernel);
  void produce(scf::ForOp op);
  std::pair<Value, Value> advanceStage(Location loc, Value stage, Value phase);
  Value previousStage(Location loc, Value stage);
  Value previousPhase(Location loc, Value stage, Value phase);
  Value loadBarriers(Location loc, Value barriers, int64_t load);
  SmallVector<int64_t> loadIndices(scf::ForOp loop, ArrayRef<LoadOp> loads = {});
  void waitLoads(Location loc, ArrayRef<int64_t> loads, Value stage, Value phase);
  void releaseLoads(Location loc, ArrayRef<int64_t> loads, Value stage);
  std::optional<OverlapPlan> overlapPlan(scf::ForOp op);
  LogicalResult lowerOverlappedFor(scf::ForOp op, OverlapPlan plan);
};

} // namespace mlir::kiln::lowering

#endif // KILN_PASSES_GPU_KERNELLOWERING_H
