;; float32 GEMM with WebAssembly SIMD (f32x4), GotoBLAS style: both operands are packed into
;; panels (A: 4 rows wide, B: 8 columns wide, each panel p-major over k) so the 4×8 micro-kernel
;; reads both streams contiguously and keeps the C tile in 8 registers.
;; Regenerate matmul_wasm_bytes.ts with `npm run build:wasm` after editing.
;; All pointers are byte offsets into the exported memory; the caller lays out the buffers.
(module
  (memory (export "memory") 1)

  ;; Packs a rows×k matrix, element (r, p) at src + 4*(r*rs + p*ps), into panels of R rows:
  ;; element (r, p) goes to dst + 4*((r - r%R)*k + p*R + r%R). Rows past `rows` in the last
  ;; panel are zero, so the kernel can run full tiles everywhere.
  (func (export "pack")
    (param $src i32) (param $dst i32) (param $rows i32) (param $k i32)
    (param $rs i32) (param $ps i32) (param $R i32)
    (local $full i32) (local $r0 i32) (local $p i32) (local $s i32) (local $d i32) (local $v i32)
    (local.set $full (i32.sub (local.get $rows) (i32.rem_u (local.get $rows) (local.get $R))))
    (if (i32.eq (local.get $rs) (i32.const 1))
      (then
        ;; Rows contiguous in the source: each panel row is R/4 vector copies.
        (block $done
          (loop $panels
            (br_if $done (i32.ge_u (local.get $r0) (local.get $full)))
            (local.set $s (i32.add (local.get $src) (i32.shl (local.get $r0) (i32.const 2))))
            (local.set $d (i32.add (local.get $dst)
              (i32.shl (i32.mul (local.get $r0) (local.get $k)) (i32.const 2))))
            (local.set $p (local.get $k))
            (loop $steps
              (local.set $v (i32.const 0))
              (loop $vectors
                (v128.store (i32.add (local.get $d) (local.get $v))
                  (v128.load (i32.add (local.get $s) (local.get $v))))
                (br_if $vectors (i32.lt_u
                  (local.tee $v (i32.add (local.get $v) (i32.const 16)))
                  (i32.shl (local.get $R) (i32.const 2)))))
              (local.set $s (i32.add (local.get $s) (i32.shl (local.get $ps) (i32.const 2))))
              (local.set $d (i32.add (local.get $d) (i32.shl (local.get $R) (i32.const 2))))
              (br_if $steps (local.tee $p (i32.sub (local.get $p) (i32.const 1)))))
            (local.set $r0 (i32.add (local.get $r0) (local.get $R)))
            (br $panels))))
      (else
        (if (i32.eq (local.get $ps) (i32.const 1))
          (then (call $pack_transposing (local.get $src) (local.get $dst) (local.get $full)
            (local.get $k) (local.get $rs) (local.get $R)))
          (else (call $pack_rows (local.get $src) (local.get $dst) (i32.const 0) (local.get $full)
            (local.get $k) (local.get $rs) (local.get $ps) (local.get $R))))))
    (if (i32.lt_u (local.get $full) (local.get $rows))
      (then
        ;; The last, partial panel: zero it, then copy the rows there are.
        (local.set $d (i32.add (local.get $dst)
          (i32.shl (i32.mul (local.get $full) (local.get $k)) (i32.const 2))))
        (local.set $v (i32.add (local.get $d)
          (i32.shl (i32.mul (local.get $R) (local.get $k)) (i32.const 2))))
        (loop $zero
          (v128.store (local.get $d) (v128.const i32x4 0 0 0 0))
          (br_if $zero (i32.lt_u
            (local.tee $d (i32.add (local.get $d) (i32.const 16))) (local.get $v))))
        (call $pack_rows (local.get $src) (local.get $dst) (local.get $full) (local.get $rows)
          (local.get $k) (local.get $rs) (local.get $ps) (local.get $R)))))

  ;; pack's path for rows contiguous along k (ps = 1: A untransposed, B transposed), full panels
  ;; [0, full): four rows at a time, each 4×4 block transposed with shuffles into four panel
  ;; steps; the last k mod 4 steps element by element.
  (func $pack_transposing
    (param $src i32) (param $dst i32) (param $full i32) (param $k i32) (param $rs i32) (param $R i32)
    (local $r i32) (local $p i32) (local $q i32) (local $s i32) (local $d i32) (local $step i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $t0 v128) (local $t1 v128)
    (local.set $rs (i32.shl (local.get $rs) (i32.const 2)))
    (local.set $step (i32.shl (local.get $R) (i32.const 2)))
    (block $done
      (loop $groups
        (br_if $done (i32.ge_u (local.get $r) (local.get $full)))
        (local.set $s (i32.add (local.get $src) (i32.mul (local.get $r) (local.get $rs))))
        (local.set $d (i32.add (local.get $dst) (i32.shl
          (i32.add
            (i32.mul (i32.sub (local.get $r) (i32.rem_u (local.get $r) (local.get $R))) (local.get $k))
            (i32.rem_u (local.get $r) (local.get $R)))
          (i32.const 2))))
        (local.set $p (i32.const 0))
        (block $blocks_done
          (loop $blocks
            (br_if $blocks_done (i32.gt_u (i32.add (local.get $p) (i32.const 4)) (local.get $k)))
            (local.set $a0 (v128.load (local.get $s)))
            (local.set $a1 (v128.load (i32.add (local.get $s) (local.get $rs))))
            (local.set $a2 (v128.load (i32.add (local.get $s) (i32.shl (local.get $rs) (i32.const 1)))))
            (local.set $a3 (v128.load (i32.add (local.get $s) (i32.mul (local.get $rs) (i32.const 3)))))
            ;; t0 = a0[0] a1[0] a0[1] a1[1], t1 = a2[0] a3[0] a2[1] a3[1]: steps p and p+1.
            (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a0) (local.get $a1)))
            (local.set $t1 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a2) (local.get $a3)))
            (v128.store (local.get $d)
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t1)))
            (v128.store (i32.add (local.get $d) (local.get $step))
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t1)))
            ;; The same for lanes 2 and 3: steps p+2 and p+3.
            (local.set $t0 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a0) (local.get $a1)))
            (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a2) (local.get $a3)))
            (v128.store (i32.add (local.get $d) (i32.shl (local.get $step) (i32.const 1)))
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t1)))
            (v128.store (i32.add (local.get $d) (i32.mul (local.get $step) (i32.const 3)))
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t1)))
            (local.set $s (i32.add (local.get $s) (i32.const 16)))
            (local.set $d (i32.add (local.get $d) (i32.shl (local.get $step) (i32.const 2))))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))
            (br $blocks)))
        (block $tail_done
          (loop $tail
            (br_if $tail_done (i32.ge_u (local.get $p) (local.get $k)))
            (local.set $q (i32.const 0))
            (loop $lanes
              (f32.store (i32.add (local.get $d) (i32.shl (local.get $q) (i32.const 2)))
                (f32.load (i32.add (local.get $s) (i32.mul (local.get $q) (local.get $rs)))))
              (br_if $lanes (i32.lt_u (local.tee $q (i32.add (local.get $q) (i32.const 1))) (i32.const 4))))
            (local.set $s (i32.add (local.get $s) (i32.const 4)))
            (local.set $d (i32.add (local.get $d) (local.get $step)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $tail)))
        (local.set $r (i32.add (local.get $r) (i32.const 4)))
        (br $groups))))

  ;; pack's element-by-element path for rows [r, end): reads each row along k, writes with
  ;; stride R.
  (func $pack_rows
    (param $src i32) (param $dst i32) (param $r i32) (param $end i32) (param $k i32)
    (param $rs i32) (param $ps i32) (param $R i32)
    (local $p i32) (local $s i32) (local $d i32)
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $r) (local.get $end)))
        (local.set $s (i32.add (local.get $src)
          (i32.shl (i32.mul (local.get $r) (local.get $rs)) (i32.const 2))))
        (local.set $d (i32.add (local.get $dst) (i32.shl
          (i32.add
            (i32.mul (i32.sub (local.get $r) (i32.rem_u (local.get $r) (local.get $R))) (local.get $k))
            (i32.rem_u (local.get $r) (local.get $R)))
          (i32.const 2))))
        (local.set $p (local.get $k))
        (loop $steps
          (f32.store (local.get $d) (f32.load (local.get $s)))
          (local.set $s (i32.add (local.get $s) (i32.shl (local.get $ps) (i32.const 2))))
          (local.set $d (i32.add (local.get $d) (i32.shl (local.get $R) (i32.const 2))))
          (br_if $steps (local.tee $p (i32.sub (local.get $p) (i32.const 1)))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows))))

  ;; C[rows×8] (+)= A panels[rows/4 of kc×4] · B panel[kc×8], one 4×8 tile after another down a
  ;; column of C: ldc in bytes, astride the bytes from one A panel to the next, rows a multiple of
  ;; 4; accumulate=0 overwrites C. Walking the tiles here rather than calling once per tile saves a
  ;; call per 4×8 tile (V8 doesn't inline wasm calls): ~10% on the MLP's products.
  ;; 4×8 is what fits V8's 15 allocatable xmm registers (8 accumulators, 2 B vectors, the A
  ;; splats, a product temporary); 5×8, 6×8, 4×12 and k-unrolled variants measured slower.
  (func $panel
    (param $a i32) (param $b i32) (param $c i32) (param $kc i32) (param $ldc i32) (param $accumulate i32)
    (param $rows i32) (param $astride i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $b0 v128) (local $b1 v128) (local $x v128)
    (local $c1 i32) (local $c2 i32) (local $c3 i32) (local $ap i32) (local $bp i32) (local $bend i32)
    ;; The steps end where the B panel block does: no counter, which V8 would keep on the stack.
    (local.set $bend (i32.add (local.get $b) (i32.shl (local.get $kc) (i32.const 5))))
    (loop $tiles
      (local.set $ap (local.get $a))
      (local.set $bp (local.get $b))
      (local.set $c00 (v128.const i32x4 0 0 0 0))
      (local.set $c01 (v128.const i32x4 0 0 0 0))
      (local.set $c10 (v128.const i32x4 0 0 0 0))
      (local.set $c11 (v128.const i32x4 0 0 0 0))
      (local.set $c20 (v128.const i32x4 0 0 0 0))
      (local.set $c21 (v128.const i32x4 0 0 0 0))
      (local.set $c30 (v128.const i32x4 0 0 0 0))
      (local.set $c31 (v128.const i32x4 0 0 0 0))
      (loop $steps
        (local.set $b0 (v128.load (local.get $bp)))
        (local.set $b1 (v128.load offset=16 (local.get $bp)))
        (local.set $x (v128.load32_splat (local.get $ap)))
        (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat offset=4 (local.get $ap)))
        (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat offset=8 (local.get $ap)))
        (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat offset=12 (local.get $ap)))
        (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $ap (i32.add (local.get $ap) (i32.const 16)))
        (local.set $bp (i32.add (local.get $bp) (i32.const 32)))
        (br_if $steps (i32.ne (local.get $bp) (local.get $bend))))
      (local.set $c1 (i32.add (local.get $c) (local.get $ldc)))
      (local.set $c2 (i32.add (local.get $c1) (local.get $ldc)))
      (local.set $c3 (i32.add (local.get $c2) (local.get $ldc)))
      (if (local.get $accumulate)
        (then
          (local.set $c00 (f32x4.add (local.get $c00) (v128.load (local.get $c))))
          (local.set $c01 (f32x4.add (local.get $c01) (v128.load offset=16 (local.get $c))))
          (local.set $c10 (f32x4.add (local.get $c10) (v128.load (local.get $c1))))
          (local.set $c11 (f32x4.add (local.get $c11) (v128.load offset=16 (local.get $c1))))
          (local.set $c20 (f32x4.add (local.get $c20) (v128.load (local.get $c2))))
          (local.set $c21 (f32x4.add (local.get $c21) (v128.load offset=16 (local.get $c2))))
          (local.set $c30 (f32x4.add (local.get $c30) (v128.load (local.get $c3))))
          (local.set $c31 (f32x4.add (local.get $c31) (v128.load offset=16 (local.get $c3))))))
      (v128.store (local.get $c) (local.get $c00))
      (v128.store offset=16 (local.get $c) (local.get $c01))
      (v128.store (local.get $c1) (local.get $c10))
      (v128.store offset=16 (local.get $c1) (local.get $c11))
      (v128.store (local.get $c2) (local.get $c20))
      (v128.store offset=16 (local.get $c2) (local.get $c21))
      (v128.store (local.get $c3) (local.get $c30))
      (v128.store offset=16 (local.get $c3) (local.get $c31))
      (local.set $a (i32.add (local.get $a) (local.get $astride)))
      (local.set $c (i32.add (local.get $c3) (local.get $ldc)))
      (br_if $tiles (local.tee $rows (i32.sub (local.get $rows) (i32.const 4))))))

  ;; C[mp×np] = packed A[mp×k] · packed B[k×np]; mp, np multiples of 4 and 8, k ≥ 1.
  ;; k is cut into blocks of 64: one B panel block (2 KB) stays in L1 while the A panels stream
  ;; past it, and each float32 sum runs over at most 64 terms before it is added to C, which
  ;; keeps rounding error at ~3e-7 of Σ|A·B| for k = 784 (256-long blocks reach ~1.2e-6).
  ;; Rows are cut into blocks of 64, so the A block the column panels share (16 KB) stays in L1
  ;; too: +3% on the MLP's 128×784·784×256.
  (func (export "gemm") (param $ap i32) (param $bp i32) (param $c i32) (param $mp i32) (param $np i32) (param $k i32)
    (local $pc i32) (local $kc i32) (local $ic i32) (local $mc i32) (local $jr i32)
    (loop $blocks
      (local.set $kc (i32.sub (local.get $k) (local.get $pc)))
      (if (i32.gt_u (local.get $kc) (i32.const 64)) (then (local.set $kc (i32.const 64))))
      (local.set $ic (i32.const 0))
      (loop $row_blocks
        (local.set $mc (i32.sub (local.get $mp) (local.get $ic)))
        (if (i32.gt_u (local.get $mc) (i32.const 64)) (then (local.set $mc (i32.const 64))))
        (local.set $jr (i32.const 0))
        (loop $cols
          (call $panel
            (i32.add (local.get $ap) (i32.shl
              (i32.add (i32.mul (local.get $ic) (local.get $k)) (i32.shl (local.get $pc) (i32.const 2)))
              (i32.const 2)))
            (i32.add (local.get $bp) (i32.shl
              (i32.add (i32.mul (local.get $jr) (local.get $k)) (i32.shl (local.get $pc) (i32.const 3)))
              (i32.const 2)))
            (i32.add (local.get $c) (i32.shl
              (i32.add (i32.mul (local.get $ic) (local.get $np)) (local.get $jr))
              (i32.const 2)))
            (local.get $kc)
            (i32.shl (local.get $np) (i32.const 2))
            (local.get $pc)
            (local.get $mc)
            (i32.shl (local.get $k) (i32.const 4)))
          (br_if $cols (i32.lt_u (local.tee $jr (i32.add (local.get $jr) (i32.const 8))) (local.get $np))))
        (br_if $row_blocks (i32.lt_u (local.tee $ic (i32.add (local.get $ic) (i32.const 64))) (local.get $mp))))
      (br_if $blocks (i32.lt_u (local.tee $pc (i32.add (local.get $pc) (i32.const 64))) (local.get $k))))))
