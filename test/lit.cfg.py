# lit configuration of Kiln's main test suite.
import glob
import os
import shutil
import lit.formats

config.name = "Kiln"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.kiln_obj_root, "test")
config.excludes = ["unit", "lit.cfg.py", "Inputs", "CMakeLists.txt"]

config.environment["PATH"] = os.pathsep.join(
    [config.kiln_tools_dir, config.kiln_examples_dir, config.llvm_tools_dir,
     config.environment.get("PATH", os.environ.get("PATH", ""))])
config.substitutions.append(("%python", config.python_executable))
config.substitutions.append(("%kiln_src", config.kiln_src_root))
config.substitutions.append(("%examples", os.path.join(config.kiln_src_root, "examples")))

if config.kiln_enable_compiler:
    config.available_features.add("compiler")
ptxas = os.path.join(os.environ.get("CUDA_HOME", "/usr/local/cuda"), "bin", "ptxas")
if os.access(ptxas, os.X_OK):
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", ptxas))
if shutil.which("nvidia-smi") and os.path.exists("/dev/nvidia0"):
    config.available_features.add("gpu")
# AMD device libraries (Debian's rocm-device-libs) for math the ISA lacks; spirv-val checks
# the Intel targets' SPIR-V.
if os.path.isdir("/usr/lib/x86_64-linux-gnu/amdgcn/bitcode"):
    config.available_features.add("rocm-device-libs")
if shutil.which("spirv-val"):
    config.available_features.add("spirv-val")
# The HIP and Level Zero runtimes: GPUs here, and fake vendor libraries for the tests.
if os.path.exists("/dev/kfd"):
    config.available_features.add("amd-gpu")
for vendor in glob.glob("/sys/class/drm/renderD*/device/vendor"):
    with open(vendor) as f:
        if f.read().strip() == "0x8086":
            config.available_features.add("intel-gpu")
fakes = os.path.join(config.kiln_obj_root, "test", "unit", "GPURuntimes")
config.substitutions.append(("%fake_hip", os.path.join(fakes, "libKilnFakeHip.so")))
config.substitutions.append(("%fake_level_zero", os.path.join(fakes, "libKilnFakeLevelZero.so")))
