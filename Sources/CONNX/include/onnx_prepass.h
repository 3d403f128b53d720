// The wire-format pre-pass that stands between an untrusted .onnx file and
// protobuf-c.
//
// protobuf-c trusts its input more than we can: it has no nesting limit (a
// deeply nested TypeProto overflows the stack), reports failure only as NULL,
// and copies every `bytes` field (so every weight). The pre-pass walks the
// file once, guided by the generated message descriptors, and
//   - validates every tag, varint, length and wire type against the schema,
//     rejecting nesting deeper than ONNX_PREPASS_MAX_DEPTH;
//   - bounds the memory that protobuf-c will allocate when unpacking;
//   - writes a "skeleton": the same messages without any TensorProto.raw_data
//     payload. In its place the skeleton carries a varint field numbered
//     ONNX_PREPASS_LIFTED_FIELD whose value indexes `spans`, the payload's
//     position in the original bytes. Unknown fields of the input are dropped,
//     so that field number can only come from the pre-pass.
// On failure it reports what went wrong, the byte offset and the protobuf
// path, e.g. "ModelProto.graph.node[12].attribute[3]".
#ifndef ONNX_PREPASS_H
#define ONNX_PREPASS_H

#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>

#define ONNX_PREPASS_MAX_DEPTH 100
/// The largest field number protobuf allows; never assigned by ONNX.
#define ONNX_PREPASS_LIFTED_FIELD 536870911u

/// Where one lifted payload sits in the input.
typedef struct {
    uint64_t offset;
    uint64_t length;
} OnnxLiftedSpan;

typedef enum {
    ONNX_PREPASS_OK = 0,
    ONNX_PREPASS_TRUNCATED,          // a field runs past the end of the input
    ONNX_PREPASS_OVERRUN,            // a length runs past its enclosing message
    ONNX_PREPASS_BAD_VARINT,         // more than 10 bytes, or overflows 64 bits
    ONNX_PREPASS_BAD_TAG,            // field number 0 or too large
    ONNX_PREPASS_BAD_WIRE_TYPE,      // groups (3, 4) or undefined (6, 7)
    ONNX_PREPASS_WRONG_WIRE_TYPE,    // a known field encoded with the wrong wire type
    ONNX_PREPASS_BAD_PACKED,         // a packed array whose length does not fit its elements
    ONNX_PREPASS_TOO_DEEP,           // nesting beyond ONNX_PREPASS_MAX_DEPTH
    ONNX_PREPASS_TOO_LARGE,          // unpacked metadata would exceed the memory budget
    ONNX_PREPASS_OUT_OF_MEMORY,
} OnnxPrepassStatus;

typedef struct {
    // Output on success; release with onnx_prepass_free.
    uint8_t *skeleton;
    size_t skeleton_length;
    OnnxLiftedSpan *spans;
    size_t span_count;
    /// Upper bound of what protobuf-c will allocate to unpack the skeleton.
    uint64_t unpacked_bytes;

    // Failure report.
    OnnxPrepassStatus status;
    uint64_t error_offset;           // byte offset in the input
    char error_path[512];            // protobuf path of the field being read
    char error_detail[160];          // extra facts, e.g. the declared length
} OnnxPrepassResult;

/// The message a file holds at its top level.
typedef enum {
    ONNX_PREPASS_ROOT_MODEL,    // an .onnx model: onnx.ModelProto
    ONNX_PREPASS_ROOT_TENSOR,   // a test-data .pb file: onnx.TensorProto
    ONNX_PREPASS_ROOT_SEQUENCE, // a test-data .pb file of a sequence: onnx.SequenceProto
    ONNX_PREPASS_ROOT_OPTIONAL, // a test-data .pb file of an optional: onnx.OptionalProto
} OnnxPrepassRoot;

/// Validates `data` as a serialized `root` message and builds its skeleton.
/// `memory_budget` caps `unpacked_bytes`. Returns `result->status`.
OnnxPrepassStatus onnx_prepass(const uint8_t *data, size_t length,
                               OnnxPrepassRoot root,
                               uint64_t memory_budget,
                               OnnxPrepassResult *result);

/// Releases what a successful onnx_prepass allocated. Safe on any result.
void onnx_prepass_free(OnnxPrepassResult *result);

#endif
