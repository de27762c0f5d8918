;; The optimizers' element-wise updates on WebAssembly SIMD, four float32 elements at a time: the
;; fast twins of the JavaScript loops in kernels.ts, equal to them bit for bit. f32x4 arithmetic
;; (sqrt and division included) rounds to nearest float32 once, as Math.fround does after the same
;; operation in double; the fused steps `a + b·c` go through double as there ($fma).
;; Regenerate optim_wasm_bytes.ts with `npm run build:wasm` after editing.
;; Pointers are byte offsets of 16-byte-aligned arrays in the exported memory (optim_wasm.ts lays
;; them out); n is rounded up to 4: lanes past the end compute values nobody reads.
;; Flags are 0 or 1; scalars are those of kernels.ts's *Step, already float32.
(module
  (memory (export "memory") 1)

  ;; fl32(a + b·c) with the sum rounded to double first, as Math.fround(a + b * c) is (a float32
  ;; product is exact in double): lanes 0-1 and 2-3 (shuffled down) promoted, computed, demoted.
  ;; A call where V8 doesn't inline wasm (Node 20): Adam's hot loop writes the body out instead.
  (func $fma (param $a v128) (param $b v128) (param $c v128) (result v128)
    (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
      (f32x4.demote_f64x2_zero (f64x2.add (f64x2.promote_low_f32x4 (local.get $a))
        (f64x2.mul (f64x2.promote_low_f32x4 (local.get $b)) (f64x2.promote_low_f32x4 (local.get $c)))))
      (f32x4.demote_f64x2_zero (f64x2.add
        (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $a) (local.get $a)))
        (f64x2.mul
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $b) (local.get $b)))
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $c) (local.get $c))))))))

  (func (export "sgd")
    (param $p i32) (param $g i32) (param $buf i32) (param $n i32)
    (param $maximize i32) (param $decay i32) (param $momentum i32) (param $first i32) (param $nesterov i32)
    (param $wd f32) (param $mom f32) (param $damp f32) (param $lr f32)
    (local $i i32) (local $end i32) (local $sign v128) (local $d v128) (local $x v128) (local $b v128)
    (local $wd4 v128) (local $mom4 v128) (local $damp4 v128) (local $lr4 v128)
    (local.set $wd4 (f32x4.splat (local.get $wd)))
    (local.set $mom4 (f32x4.splat (local.get $mom)))
    (local.set $damp4 (f32x4.splat (local.get $damp)))
    (local.set $lr4 (f32x4.splat (local.get $lr)))
    ;; Flips the gradient's sign bit when maximizing, as JavaScript's -x does.
    (local.set $sign (i32x4.splat (i32.shl (local.get $maximize) (i32.const 31))))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $d (v128.xor (v128.load (i32.add (local.get $g) (local.get $i))) (local.get $sign)))
        (local.set $x (v128.load (i32.add (local.get $p) (local.get $i))))
        (if (local.get $decay)
          (then (local.set $d (call $fma (local.get $d) (local.get $wd4) (local.get $x)))))
        (if (local.get $momentum)
          (then
            (if (local.get $first)
              (then (local.set $b (local.get $d)))
              (else (local.set $b (call $fma
                (f32x4.mul (v128.load (i32.add (local.get $buf) (local.get $i))) (local.get $mom4))
                (local.get $damp4) (local.get $d)))))
            (v128.store (i32.add (local.get $buf) (local.get $i)) (local.get $b))
            (if (local.get $nesterov)
              (then (local.set $d (call $fma (local.get $d) (local.get $mom4) (local.get $b))))
              (else (local.set $d (local.get $b))))))
        (v128.store (i32.add (local.get $p) (local.get $i))
          (call $fma (local.get $x) (local.get $lr4) (local.get $d)))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $next))))

  (func (export "adam")
    (param $p i32) (param $g i32) (param $m i32) (param $v i32) (param $vmax i32) (param $n i32)
    (param $maximize i32) (param $l2 i32) (param $decoupled i32) (param $amsgrad i32)
    (param $wd f32) (param $decay f32) (param $b1 f32) (param $b2 f32) (param $a1 f32) (param $a2 f32)
    (param $eps f32) (param $bc2_sqrt f32) (param $step_size f32)
    (local $i i32) (local $end i32) (local $sign v128) (local $d v128) (local $x v128) (local $mi v128) (local $vi v128)
    (local $fa v128) (local $fb v128) (local $fc v128)
    (local $wd4 v128) (local $decay4 v128) (local $b14 v128) (local $b24 v128) (local $a14 v128)
    (local $a24 v128) (local $eps4 v128) (local $bc2_sqrt4 v128) (local $step_size4 v128)
    (local.set $wd4 (f32x4.splat (local.get $wd)))
    (local.set $decay4 (f32x4.splat (local.get $decay)))
    (local.set $b14 (f32x4.splat (local.get $b1)))
    (local.set $b24 (f32x4.splat (local.get $b2)))
    (local.set $a14 (f32x4.splat (local.get $a1)))
    (local.set $a24 (f32x4.splat (local.get $a2)))
    (local.set $eps4 (f32x4.splat (local.get $eps)))
    (local.set $bc2_sqrt4 (f32x4.splat (local.get $bc2_sqrt)))
    (local.set $step_size4 (f32x4.splat (local.get $step_size)))
    ;; Flips the gradient's sign bit when maximizing, as JavaScript's -x does.
    (local.set $sign (i32x4.splat (i32.shl (local.get $maximize) (i32.const 31))))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $d (v128.xor (v128.load (i32.add (local.get $g) (local.get $i))) (local.get $sign)))
        (local.set $x (v128.load (i32.add (local.get $p) (local.get $i))))
        (if (local.get $l2)
          (then (local.set $d (call $fma (local.get $d) (local.get $wd4) (local.get $x)))))
        (if (local.get $decoupled)
          (then (local.set $x (f32x4.mul (local.get $x) (local.get $decay4)))))
        ;; $fma's body written out for the two updates every element makes: the calls cost Adam ~30%.
        (local.set $fa (f32x4.mul (v128.load (i32.add (local.get $m) (local.get $i))) (local.get $b14)))
        (local.set $fb (local.get $a14))
        (local.set $fc (local.get $d))
        (local.set $mi (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
          (f32x4.demote_f64x2_zero (f64x2.add (f64x2.promote_low_f32x4 (local.get $fa))
            (f64x2.mul (f64x2.promote_low_f32x4 (local.get $fb)) (f64x2.promote_low_f32x4 (local.get $fc)))))
          (f32x4.demote_f64x2_zero (f64x2.add
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $fa) (local.get $fa)))
            (f64x2.mul
              (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $fb) (local.get $fb)))
              (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $fc) (local.get $fc))))))))
        (v128.store (i32.add (local.get $m) (local.get $i)) (local.get $mi))
        (local.set $fa (f32x4.mul (v128.load (i32.add (local.get $v) (local.get $i))) (local.get $b24)))
        (local.set $fb (f32x4.mul (local.get $a24) (local.get $d)))
        (local.set $fc (local.get $d))
        (local.set $vi (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
          (f32x4.demote_f64x2_zero (f64x2.add (f64x2.promote_low_f32x4 (local.get $fa))
            (f64x2.mul (f64x2.promote_low_f32x4 (local.get $fb)) (f64x2.promote_low_f32x4 (local.get $fc)))))
          (f32x4.demote_f64x2_zero (f64x2.add
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $fa) (local.get $fa)))
            (f64x2.mul
              (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $fb) (local.get $fb)))
              (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $fc) (local.get $fc))))))))
        (v128.store (i32.add (local.get $v) (local.get $i)) (local.get $vi))
        (if (local.get $amsgrad)
          (then
            ;; Math.max's semantics: NaN if either is, and +0 above -0.
            (local.set $vi (f32x4.max (v128.load (i32.add (local.get $vmax) (local.get $i))) (local.get $vi)))
            (v128.store (i32.add (local.get $vmax) (local.get $i)) (local.get $vi))))
        (v128.store (i32.add (local.get $p) (local.get $i))
          (f32x4.add (local.get $x)
            (f32x4.div (f32x4.mul (local.get $step_size4) (local.get $mi))
              (f32x4.add (f32x4.div (f32x4.sqrt (local.get $vi)) (local.get $bc2_sqrt4)) (local.get $eps4)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $next))))

  (func (export "rmsprop")
    (param $p i32) (param $g i32) (param $sq i32) (param $avg_grad i32) (param $buf i32) (param $n i32)
    (param $maximize i32) (param $decay i32) (param $centered i32) (param $momentum i32)
    (param $wd f32) (param $alpha f32) (param $one_minus_alpha f32) (param $eps f32) (param $mom f32)
    (param $lr f32)
    (local $i i32) (local $end i32) (local $sign v128) (local $d v128) (local $x v128) (local $s v128) (local $a v128)
    (local $avg v128) (local $b v128)
    (local $wd4 v128) (local $alpha4 v128) (local $one_minus_alpha4 v128) (local $eps4 v128)
    (local $mom4 v128) (local $lr4 v128)
    (local.set $wd4 (f32x4.splat (local.get $wd)))
    (local.set $alpha4 (f32x4.splat (local.get $alpha)))
    (local.set $one_minus_alpha4 (f32x4.splat (local.get $one_minus_alpha)))
    (local.set $eps4 (f32x4.splat (local.get $eps)))
    (local.set $mom4 (f32x4.splat (local.get $mom)))
    (local.set $lr4 (f32x4.splat (local.get $lr)))
    ;; Flips the gradient's sign bit when maximizing, as JavaScript's -x does.
    (local.set $sign (i32x4.splat (i32.shl (local.get $maximize) (i32.const 31))))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $d (v128.xor (v128.load (i32.add (local.get $g) (local.get $i))) (local.get $sign)))
        (local.set $x (v128.load (i32.add (local.get $p) (local.get $i))))
        (if (local.get $decay)
          (then (local.set $d (call $fma (local.get $d) (local.get $wd4) (local.get $x)))))
        (local.set $s (call $fma
          (f32x4.mul (v128.load (i32.add (local.get $sq) (local.get $i))) (local.get $alpha4))
          (f32x4.mul (local.get $one_minus_alpha4) (local.get $d)) (local.get $d)))
        (v128.store (i32.add (local.get $sq) (local.get $i)) (local.get $s))
        (if (local.get $centered)
          (then
            (local.set $a (call $fma
              (f32x4.mul (v128.load (i32.add (local.get $avg_grad) (local.get $i))) (local.get $alpha4))
              (local.get $one_minus_alpha4) (local.get $d)))
            (v128.store (i32.add (local.get $avg_grad) (local.get $i)) (local.get $a))
            ;; s − a·a as s + (−a)·a: the same double, bit for bit.
            (local.set $avg (f32x4.sqrt (call $fma (local.get $s) (f32x4.neg (local.get $a)) (local.get $a)))))
          (else (local.set $avg (f32x4.sqrt (local.get $s)))))
        (local.set $avg (f32x4.add (local.get $avg) (local.get $eps4)))
        (if (local.get $momentum)
          (then
            (local.set $b (f32x4.add
              (f32x4.mul (v128.load (i32.add (local.get $buf) (local.get $i))) (local.get $mom4))
              (f32x4.div (local.get $d) (local.get $avg))))
            (v128.store (i32.add (local.get $buf) (local.get $i)) (local.get $b))
            (local.set $x (call $fma (local.get $x) (local.get $lr4) (local.get $b))))
          (else (local.set $x (f32x4.add (local.get $x)
            (f32x4.div (f32x4.mul (local.get $lr4) (local.get $d)) (local.get $avg))))))
        (v128.store (i32.add (local.get $p) (local.get $i)) (local.get $x))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $next))))

  (func (export "adagrad")
    (param $p i32) (param $g i32) (param $sum i32) (param $n i32)
    (param $maximize i32) (param $decay i32)
    (param $wd f32) (param $clr f32) (param $eps f32)
    (local $i i32) (local $end i32) (local $sign v128) (local $d v128) (local $x v128) (local $s v128)
    (local $wd4 v128) (local $clr4 v128) (local $eps4 v128)
    (local.set $wd4 (f32x4.splat (local.get $wd)))
    (local.set $clr4 (f32x4.splat (local.get $clr)))
    (local.set $eps4 (f32x4.splat (local.get $eps)))
    ;; Flips the gradient's sign bit when maximizing, as JavaScript's -x does.
    (local.set $sign (i32x4.splat (i32.shl (local.get $maximize) (i32.const 31))))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $d (v128.xor (v128.load (i32.add (local.get $g) (local.get $i))) (local.get $sign)))
        (local.set $x (v128.load (i32.add (local.get $p) (local.get $i))))
        (if (local.get $decay)
          (then (local.set $d (call $fma (local.get $d) (local.get $wd4) (local.get $x)))))
        (local.set $s (call $fma (v128.load (i32.add (local.get $sum) (local.get $i))) (local.get $d) (local.get $d)))
        (v128.store (i32.add (local.get $sum) (local.get $i)) (local.get $s))
        (v128.store (i32.add (local.get $p) (local.get $i))
          (f32x4.add (local.get $x)
            (f32x4.div (f32x4.mul (local.get $clr4) (local.get $d))
              (f32x4.add (f32x4.sqrt (local.get $s)) (local.get $eps4)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $next)))))
