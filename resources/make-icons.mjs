#!/usr/bin/env node
// Draws the tray and app icons as small PNGs (run by hand after changing a colour; the PNGs are
// committed). One filled disc per tray state; "off" is a hollow ring. No image library needed.
import { writeFileSync } from 'node:fs';
import { crc32, deflateSync } from 'node:zlib';

const COLOURS = {
  online: [26, 160, 70],
  local: [31, 95, 191],
  busy: [214, 150, 0],
  error: [210, 40, 40],
  off: [120, 128, 138],
};

function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

function png(size, pixel) {
  const rows = [];
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 4);
    for (let x = 0; x < size; x++) row.set(pixel(x + 0.5, y + 0.5), 1 + x * 4);
    rows.push(row);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A disc (or ring) with a one-pixel antialiased edge. */
function disc(size, [r, g, b], hollow) {
  const c = size / 2;
  const outer = size / 2 - size / 16;
  const inner = hollow ? outer - size / 6 : -1;
  return png(size, (x, y) => {
    const d = Math.hypot(x - c, y - c);
    const edge = Math.min(1, Math.max(0, outer - d + 0.5)) * Math.min(1, Math.max(0, d - inner + 0.5));
    return [r, g, b, Math.round(255 * edge)];
  });
}

const here = new URL('.', import.meta.url);
for (const [name, colour] of Object.entries(COLOURS)) {
  writeFileSync(new URL(`tray-${name}.png`, here), disc(16, colour, name === 'off'));
  writeFileSync(new URL(`tray-${name}@2x.png`, here), disc(32, colour, name === 'off'));
}
writeFileSync(new URL('icon.png', here), disc(256, COLOURS.local, false));
