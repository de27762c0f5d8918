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
      (else (call $pack_rows (local.get $src) (local.get $dst) (i32.const 0) (local.get $full)
        (local.get $k) (local.get $rs) (local.get $ps) (local.get $R))))
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

  ;; C[4×8] (+)= A panel[kc×4] · B panel[kc×8]; ldc in bytes; accumulate=0 overwrites C.
  ;; 4×8 is what fits V8's 15 allocatable xmm registers (8 accumulators, 2 B vectors, the A
  ;; splats, a product temporary); 5×8, 6×8, 4×12 and k-unrolled variants measured slower.
  (func $kernel
    (param $a i32) (param $b i32) (param $c i32) (param $kc i32) (param $ldc i32) (param $accumulate i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $b0 v128) (local $b1 v128) (local $x v128)
    (local $c1 i32) (local $c2 i32) (local $c3 i32)
    (loop $p
      (local.set $b0 (v128.load (local.get $b)))
      (local.set $b1 (v128.load offset=16 (local.get $b)))
      (local.set $x (v128.load32_splat (local.get $a)))
      (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x) (local.get $b0))))
      (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x) (local.get $b1))))
      (local.set $x (v128.load32_splat offset=4 (local.get $a)))
      (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $x) (local.get $b0))))
      (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $x) (local.get $b1))))
      (local.set $x (v128.load32_splat offset=8 (local.get $a)))
      (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $x) (local.get $b0))))
      (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $x) (local.get $b1))))
      (local.set $x (v128.load32_splat offset=12 (local.get $a)))
      (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $x) (local.get $b0))))
      (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $x) (local.get $b1))))
      (local.set $a (i32.add (local.get $a) (i32.const 16)))
      (local.set $b (i32.add (local.get $b) (i32.const 32)))
      (br_if $p (local.tee $kc (i32.sub (local.get $kc) (i32.const 1)))))
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
    (v128.store offset=16 (local.get $c3) (local.get $c31)))

  ;; C[mp×np] = packed A[mp×k] · packed B[k×np]; mp, np multiples of 4 and 8, k ≥ 1.
  ;; k is cut into blocks of 64: one B panel block (2 KB) stays in L1 while the A panels stream
  ;; past it, and each float32 sum runs over at most 64 terms before it is added to C, which
  ;; keeps rounding error at ~3e-7 of Σ|A·B| for k = 784 (256-long blocks reach ~1.2e-6).
  (func (export "gemm") (param $ap i32) (param $bp i32) (param $c i32) (param $mp i32) (param $np i32) (param $k i32)
    (local $pc i32) (local $kc i32) (local $ir i32) (local $jr i32)
    (loop $blocks
      (local.set $kc (i32.sub (local.get $k) (local.get $pc)))
      (if (i32.gt_u (local.get $kc) (i32.const 64)) (then (local.set $kc (i32.const 64))))
      (local.set $jr (i32.const 0))
      (loop $cols
        (local.set $ir (i32.const 0))
        (loop $rows
          (call $kernel
            (i32.add (local.get $ap) (i32.shl
              (i32.add (i32.mul (local.get $ir) (local.get $k)) (i32.shl (local.get $pc) (i32.const 2)))
              (i32.const 2)))
            (i32.add (local.get $bp) (i32.shl
              (i32.add (i32.mul (local.get $jr) (local.get $k)) (i32.shl (local.get $pc) (i32.const 3)))
              (i32.const 2)))
            (i32.add (local.get $c) (i32.shl
              (i32.add (i32.mul (local.get $ir) (local.get $np)) (local.get $jr))
              (i32.const 2)))
            (local.get $kc)
            (i32.shl (local.get $np) (i32.const 2))
            (local.get $pc))
          (br_if $rows (i32.lt_u (local.tee $ir (i32.add (local.get $ir) (i32.const 4))) (local.get $mp))))
        (br_if $cols (i32.lt_u (local.tee $jr (i32.add (local.get $jr) (i32.const 8))) (local.get $np))))
      (br_if $blocks (i32.lt_u (local.tee $pc (i32.add (local.get $pc) (i32.const 64))) (local.get $k))))))
