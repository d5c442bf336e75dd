// The metadata_props of an ONNX file, read straight from its protobuf bytes (ModelProto field
// 14, StringStringEntryProto {key = 1, value = 2}): onnxruntime-node does not expose them.
// Used by tests/onnx/ort_run.js and shown in docs/deploy.md.
'use strict';
const fs = require('fs');

function varint(buf, pos) {
  let value = 0;
  let scale = 1;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated protobuf varint');
    const b = buf[pos++];
    value += (b & 0x7f) * scale;
    if (b < 0x80) return [value, pos];
    scale *= 128;
  }
}

// Calls visit(field, wireType, bytes-or-number) for each top-level field of a message.
function fields(buf, visit) {
  let pos = 0;
  while (pos < buf.length) {
    let tag;
    [tag, pos] = varint(buf, pos);
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (wire === 0) {
      let v;
      [v, pos] = varint(buf, pos);
      visit(field, wire, v);
    } else if (wire === 2) {
      let len;
      [len, pos] = varint(buf, pos);
      visit(field, wire, buf.subarray(pos, pos + len));
      pos += len;
    } else if (wire === 1) {
      pos += 8;
    } else if (wire === 5) {
      pos += 4;
    } else {
      throw new Error('unsupported protobuf wire type ' + wire);
    }
  }
}

/// {key: value} of an ONNX model file's metadata_props.
function onnxMetadata(file) {
  const out = {};
  fields(fs.readFileSync(file), (field, wire, bytes) => {
    if (field !== 14 || wire !== 2) return;
    let key = '';
    let value = '';
    fields(bytes, (f, w, b) => {
      if (w !== 2) return;
      if (f === 1) key = b.toString('utf8');
      if (f === 2) value = b.toString('utf8');
    });
    out[key] = value;
  });
  return out;
}

module.exports = {onnxMetadata};
