;; The CPU backend's hottest element-wise float32 loops on WebAssembly SIMD, bit for bit what
;; index.ts's JavaScript computes: f32x4 arithmetic rounds as storing to a Float32Array does, and
;; sums accumulate in double in the same order.
;; Regenerate elementwise_wasm_bytes.ts with `npm run build:wasm` after editing.
;; Pointers are byte offsets of 16-byte-aligned buffers, each with 16 bytes of slack past its end:
;; vectors run over the last partial one, computing lanes nobody reads.
(module
  (memory (export "memory") 1)

  ;; x = relu(x) in place, n elements. max(x, 0) is pointwise.ts's relu: x above 0, NaN kept,
  ;; +0 otherwise (−0 too).
  (func (export "relu") (param $x i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (v128.store (local.get $x) (f32x4.max (v128.load (local.get $x)) (v128.const f32x4 0 0 0 0)))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (br $next))))

  ;; g = x <= 0 ? 0 : g in place, n elements: relu's gradient, NaN in x letting g through.
  (func (export "relu_backward") (param $g i32) (param $x i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $g) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $g) (local.get $end)))
        (v128.store (local.get $g) (v128.andnot (v128.load (local.get $g))
          (f32x4.le (v128.load (local.get $x)) (v128.const f32x4 0 0 0 0))))
        (local.set $g (i32.add (local.get $g) (i32.const 16)))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (br $next))))

  ;; out[r, j] = x[r, j] + b[j] for rows × width x (rows, width ≥ 1). A row's last vector spills
  ;; into the next row of out, which is written after it.
  (func (export "add_rows") (param $x i32) (param $b i32) (param $out i32) (param $rows i32) (param $width i32)
    (local $j i32) (local $bytes i32)
    (local.set $bytes (i32.shl (local.get $width) (i32.const 2)))
    (loop $row
      (local.set $j (i32.const 0))
      (loop $next
        (v128.store (i32.add (local.get $out) (local.get $j)) (f32x4.add
          (v128.load (i32.add (local.get $x) (local.get $j))) (v128.load (i32.add (local.get $b) (local.get $j)))))
        (br_if $next (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 16))) (local.get $bytes))))
      (local.set $x (i32.add (local.get $x) (local.get $bytes)))
      (local.set $out (i32.add (local.get $out) (local.get $bytes)))
      (br_if $row (local.tee $rows (i32.sub (local.get $rows) (i32.const 1))))))

  ;; acc[j] = Σ_r x[r, j] in double, row after row, for rows × width x (rows, width ≥ 1); acc
  ;; has room for width rounded up to 4 doubles. A row's last vector adds the next row's first
  ;; elements into acc's slack.
  (func (export "sum_rows") (param $x i32) (param $acc i32) (param $rows i32) (param $width i32)
    (local $j i32) (local $bytes i32) (local $a i32) (local $v v128)
    (local.set $bytes (i32.shl (local.get $width) (i32.const 2)))
    (loop $zero
      (local.set $a (i32.add (local.get $acc) (i32.shl (local.get $j) (i32.const 1))))
      (v128.store (local.get $a) (v128.const i64x2 0 0))
      (v128.store offset=16 (local.get $a) (v128.const i64x2 0 0))
      (br_if $zero (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 16))) (local.get $bytes))))
    (loop $row
      (local.set $j (i32.const 0))
      (loop $next
        (local.set $v (v128.load (i32.add (local.get $x) (local.get $j))))
        (local.set $a (i32.add (local.get $acc) (i32.shl (local.get $j) (i32.const 1))))
        (v128.store (local.get $a)
          (f64x2.add (v128.load (local.get $a)) (f64x2.promote_low_f32x4 (local.get $v))))
        (v128.store offset=16 (local.get $a) (f64x2.add (v128.load offset=16 (local.get $a))
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $v) (local.get $v)))))
        (br_if $next (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 16))) (local.get $bytes))))
      (local.set $x (i32.add (local.get $x) (local.get $bytes)))
      (br_if $row (local.tee $rows (i32.sub (local.get $rows) (i32.const 1)))))))
