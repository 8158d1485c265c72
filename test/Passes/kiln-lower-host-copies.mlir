// RUN: kiln-opt %s -kiln-lower-host-copies | FileCheck %s

// CHECK-LABEL: func.func @copy
// CHECK-SAME: (%[[A:.*]]: memref<4xf32, strided<[8]>>, %[[B:.*]]: memref<4xf32>)
// CHECK-NEXT: linalg.copy ins(%[[A]] : memref<4xf32, strided<[8]>>) outs(%[[B]] : memref<4xf32>)
// CHECK-NOT: memref.copy
func.func @copy(%a: memref<4xf32, strided<[8]>>, %b: memref<4xf32>) {
  memref.copy %a, %b : memref<4xf32, strided<[8]>> to memref<4xf32>
  return
}
