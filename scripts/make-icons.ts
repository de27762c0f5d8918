// Draws the app icon (a small network: three layers of neurons and their connections on a dark
// rounded square) and writes it as PNGs: assets/icons/icon.png (1024 px, from which
// electron-builder makes the macOS and Windows icons) and assets/icons/png/NxN.png for Linux.
// No image library: coverage is computed per pixel and the PNG is written with zlib.
// Run: npm run icons
import { mkdirSync, writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

type RGB = [number, number, number];
const BACKGROUND: RGB = [0x1d, 0x27, 0x3f];
const EDGE: RGB = [0x6f, 0x8f, 0xc8];
const NEURON: RGB = [0xf2, 0xf5, 0xfa];
const ACCENT: RGB = [0xff, 0x9f, 0x43];

// In units of the icon's side (0..1).
const layers = [[0.35, 0.65], [0.25, 0.5, 0.75], [0.5]];
const xs = [0.24, 0.5, 0.76];
const neurons = layers.flatMap((ys, i) => ys.map((y) => ({ x: xs[i], y })));
const edges = layers.slice(1).flatMap((ys, i) => ys.flatMap((y) => layers[i].map((y0) => ({ x0: xs[i], y0, x1: xs[i + 1], y1: y }))));

const clamp = (t: number) => Math.max(0, Math.min(1, t));

function segmentDistance(px: number, py: number, e: { x0: number; y0: number; x1: number; y1: number }): number {
  const dx = e.x1 - e.x0;
  const dy = e.y1 - e.y0;
  const t = clamp(((px - e.x0) * dx + (py - e.y0) * dy) / (dx * dx + dy * dy));
  return Math.hypot(px - (e.x0 + t * dx), py - (e.y0 + t * dy));
}

function roundedSquareDistance(px: number, py: number, inset: number, radius: number): number {
  const qx = Math.abs(px - 0.5) - (0.5 - inset - radius);
  const qy = Math.abs(py - 0.5) - (0.5 - inset - radius);
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - radius;
}

function render(size: number): Buffer {
  const px = 1 / size;
  const coverage = (distance: number) => clamp(0.5 - distance / px); // signed distance → antialiased fill
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let j = 0; j < size; j++) {
    raw[j * (size * 4 + 1)] = 0; // filter: none
    for (let i = 0; i < size; i++) {
      const x = (i + 0.5) / size;
      const y = (j + 0.5) / size;
      let color: RGB = BACKGROUND;
      const mix = (c: RGB, a: number) => {
        color = color.map((v, k) => v + (c[k] - v) * a) as RGB;
      };
      const edge = Math.min(...edges.map((e) => segmentDistance(x, y, e)));
      mix(EDGE, coverage(edge - 0.012) * 0.9);
      for (const [k, n] of neurons.entries()) {
        const d = Math.hypot(x - n.x, y - n.y);
        mix(k === neurons.length - 1 ? ACCENT : NEURON, coverage(d - 0.07));
      }
      const alpha = coverage(roundedSquareDistance(x, y, 0.06, 0.18));
      const o = j * (size * 4 + 1) + 1 + i * 4;
      raw[o] = Math.round(color[0]);
      raw[o + 1] = Math.round(color[1]);
      raw[o + 2] = Math.round(color[2]);
      raw[o + 3] = Math.round(alpha * 255);
    }
  }
  return png(size, raw);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

function png(size: number, raw: Buffer): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const dir = new URL('../assets/icons/', import.meta.url);
mkdirSync(new URL('png/', dir), { recursive: true });
writeFileSync(new URL('icon.png', dir), render(1024));
for (const size of [16, 32, 48, 64, 128, 256, 512]) writeFileSync(new URL(`png/${size}x${size}.png`, dir), render(size));
