// kiln-opt: runs Kiln's dialects and passes over .mlir files, for tests and debugging.
#include "dialects/Kiln/KilnDialect.h"
#include "kiln/Target/AMD.h"
#include "kiln/Target/GPU.h"
#include "kiln/Target/Host.h"
#include "kiln/Target/Intel.h"
#include "kiln/Target/NVIDIA.h"
#include "passes/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  registry.insert<mlir::kiln::KilnDialect>();
  mlir::registerAllExtensions(registry);
  mlir::registerAllPasses();
  mlir::kiln::registerKilnPasses();
  kiln::host::registerHostPipeline();
  kiln::nvidia::registerNVIDIAPipeline();
  kiln::target::registerGPUTargetPasses();
  kiln::amd::registerAMDPipeline();
  kiln::intel::registerIntelPipeline();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "Kiln optimizer driver\n", registry));
}
