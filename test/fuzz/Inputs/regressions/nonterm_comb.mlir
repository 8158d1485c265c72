kiln.func @k(%p: !kiln.ptr<i32>) {
  %x = kiln.iota : tensor<16xi32>
  %r = "kiln.reduce"(%x) ({
  ^bb0(%a: i32, %b: i32):
    %c = arith.addi %a, %b : i32
  }) {axis = 0 : i32} : (tensor<16xi32>) -> i32
  kiln.return
}
