// RUN: kiln-opt %s -split-input-file -kiln-specialize="constants=BLOCK=1000" -verify-diagnostics
// RUN: not kiln-opt %s -split-input-file -kiln-specialize="constants=BLOCK=1,OTHER=1" 2>&1 | FileCheck %s --check-prefix=UNUSED
// RUN: not kiln-opt %s -split-input-file -kiln-specialize="constants=junk" 2>&1 | FileCheck %s --check-prefix=FORM

// UNUSED: error: no constexpr parameter named 'OTHER' in any kernel
// FORM: error: constant binding 'junk' is not of the form NAME=VALUE

// expected-error @+1 {{value 1000 of 'BLOCK' does not fit in 'i8'}}
kiln.func @k(%BLOCK: i8 {kiln.constexpr}) {
  kiln.return
}

// -----

// Every constexpr parameter needs a value; the error points at the parameter.
// expected-error @+1 {{constexpr parameter 'UNBOUND' of kernel 'needs' has no value; bind it with kilnc -D UNBOUND=VALUE}}
kiln.func @needs(%UNBOUND: i32 {kiln.constexpr}) {
  kiln.return
}
