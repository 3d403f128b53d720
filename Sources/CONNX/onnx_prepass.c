// The wire-format pre-pass; see include/onnx_prepass.h for what and why.
#include "onnx_prepass.h"
#include "onnx.pb-c.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { WIRE_VARINT = 0, WIRE_FIXED64 = 1, WIRE_LENGTH = 2, WIRE_FIXED32 = 5 };

/// One level of the path from the root message to the field being read.
typedef struct {
    const ProtobufCMessageDescriptor *message;
    const ProtobufCFieldDescriptor *field;   // NULL while reading a tag
    uint32_t index;                          // element index of a repeated field
} Frame;

typedef struct {
    const uint8_t *data;
    size_t length;
    uint64_t budget;

    uint8_t *out;
    size_t out_length;
    size_t out_capacity;
    OnnxLiftedSpan *spans;
    size_t span_count;
    size_t span_capacity;
    uint64_t unpacked_bytes;

    Frame frames[ONNX_PREPASS_MAX_DEPTH + 2];
    int depth;

    OnnxPrepassResult *result;
} Walker;

// MARK: - Errors

static void append_path(char *buffer, size_t size, const Walker *w) {
    size_t used = 0;
    buffer[0] = '\0';
    // A path through deep nesting keeps its first and last levels only.
    const int head = 4, tail = 3;
    bool elide = w->depth >= head + tail + 2;
    for (int level = 0; level <= w->depth && used < size; level++) {
        const Frame *frame = &w->frames[level];
        int n;
        if (elide && level == head) {
            n = snprintf(buffer + used, size - used, ".…(%d levels)…", w->depth - head - tail + 1);
            if (n < 0) return;
            used += (size_t)n;
            level = w->depth - tail;
            continue;
        }
        if (level == 0) {
            n = snprintf(buffer + used, size - used, "%s", frame->message->short_name);
            if (n < 0) return;
            used += (size_t)n;
        }
        if (frame->field == NULL || used >= size) continue;
        if (frame->field->label == PROTOBUF_C_LABEL_REPEATED) {
            n = snprintf(buffer + used, size - used, ".%s[%u]", frame->field->name, frame->index);
        } else {
            n = snprintf(buffer + used, size - used, ".%s", frame->field->name);
        }
        if (n < 0) return;
        used += (size_t)n;
    }
}

static OnnxPrepassStatus fail(Walker *w, OnnxPrepassStatus status, size_t offset, const char *detail) {
    OnnxPrepassResult *r = w->result;
    r->status = status;
    r->error_offset = offset;
    append_path(r->error_path, sizeof r->error_path, w);
    snprintf(r->error_detail, sizeof r->error_detail, "%s", detail ? detail : "");
    return status;
}

// MARK: - Output buffer

static bool reserve(Walker *w, size_t extra) {
    if (extra > SIZE_MAX - w->out_length) return false;
    size_t needed = w->out_length + extra;
    if (needed <= w->out_capacity) return true;
    size_t capacity = w->out_capacity ? w->out_capacity : 4096;
    while (capacity < needed) {
        if (capacity > SIZE_MAX / 2) return false;
        capacity *= 2;
    }
    uint8_t *grown = realloc(w->out, capacity);
    if (!grown) return false;
    w->out = grown;
    w->out_capacity = capacity;
    return true;
}

static bool emit(Walker *w, const uint8_t *bytes, size_t count) {
    if (!reserve(w, count)) return false;
    memcpy(w->out + w->out_length, bytes, count);
    w->out_length += count;
    return true;
}

static bool emit_varint(Walker *w, uint64_t value) {
    uint8_t bytes[10];
    size_t n = 0;
    do {
        bytes[n] = (uint8_t)(value & 0x7f);
        value >>= 7;
        if (value) bytes[n] |= 0x80;
        n++;
    } while (value);
    return emit(w, bytes, n);
}

/// Writes `value` as a varint padded to exactly five bytes, so that a
/// message's length can be patched in after its contents are written.
static void patch_length5(uint8_t *at, uint32_t value) {
    for (int i = 0; i < 4; i++) {
        at[i] = (uint8_t)((value & 0x7f) | 0x80);
        value >>= 7;
    }
    at[4] = (uint8_t)(value & 0x7f);
}

static bool add_span(Walker *w, uint64_t offset, uint64_t length, size_t *index) {
    if (w->span_count == w->span_capacity) {
        size_t capacity = w->span_capacity ? w->span_capacity * 2 : 64;
        if (capacity > SIZE_MAX / sizeof(OnnxLiftedSpan)) return false;
        OnnxLiftedSpan *grown = realloc(w->spans, capacity * sizeof(OnnxLiftedSpan));
        if (!grown) return false;
        w->spans = grown;
        w->span_capacity = capacity;
    }
    w->spans[w->span_count] = (OnnxLiftedSpan){offset, length};
    *index = w->span_count++;
    return true;
}

// MARK: - Reading

/// Reads a varint at *pos (before `end`). Returns false on truncation or a
/// malformed varint; `*truncated` tells which.
static bool read_varint(const uint8_t *data, size_t *pos, size_t end, uint64_t *value, bool *truncated) {
    uint64_t result = 0;
    for (int i = 0; i < 10; i++) {
        if (*pos >= end) { *truncated = true; return false; }
        uint8_t byte = data[(*pos)++];
        // The tenth byte may carry only the 64th bit.
        if (i == 9 && byte > 1) { *truncated = false; return false; }
        result |= (uint64_t)(byte & 0x7f) << (7 * i);
        if (!(byte & 0x80)) { *value = result; return true; }
    }
    *truncated = false;
    return false;
}

static int natural_wire_type(ProtobufCType type) {
    switch (type) {
    case PROTOBUF_C_TYPE_SFIXED32: case PROTOBUF_C_TYPE_FIXED32: case PROTOBUF_C_TYPE_FLOAT:
        return WIRE_FIXED32;
    case PROTOBUF_C_TYPE_SFIXED64: case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_DOUBLE:
        return WIRE_FIXED64;
    case PROTOBUF_C_TYPE_STRING: case PROTOBUF_C_TYPE_BYTES: case PROTOBUF_C_TYPE_MESSAGE:
        return WIRE_LENGTH;
    default:
        return WIRE_VARINT;
    }
}

/// Bytes protobuf-c allocates for one element of a scalar field.
static size_t element_size(ProtobufCType type) {
    switch (type) {
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_STRING: case PROTOBUF_C_TYPE_BYTES: case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(void *) * 2;
    default:
        return 4;
    }
}

static OnnxPrepassStatus charge(Walker *w, uint64_t bytes, size_t offset) {
    if (bytes > w->budget || w->unpacked_bytes > w->budget - bytes) {
        char detail[96];
        snprintf(detail, sizeof detail, "budget %llu bytes", (unsigned long long)w->budget);
        return fail(w, ONNX_PREPASS_TOO_LARGE, offset, detail);
    }
    w->unpacked_bytes += bytes;
    return ONNX_PREPASS_OK;
}

static bool is_lifted_payload(const ProtobufCMessageDescriptor *message, const ProtobufCFieldDescriptor *field) {
    return message == &onnx__tensor_proto__descriptor && field->id == 9;
}

static OnnxPrepassStatus walk_message(Walker *w, const ProtobufCMessageDescriptor *message, size_t start, size_t end);

/// Validates a packed array of `field`'s scalars in [start, end).
static OnnxPrepassStatus check_packed(Walker *w, const ProtobufCFieldDescriptor *field, size_t start, size_t end) {
    size_t count = 0;
    int wire = natural_wire_type(field->type);
    if (wire == WIRE_VARINT) {
        size_t pos = start;
        while (pos < end) {
            uint64_t ignored;
            bool truncated;
            size_t at = pos;
            if (!read_varint(w->data, &pos, end, &ignored, &truncated))
                return fail(w, ONNX_PREPASS_BAD_PACKED, at, "malformed varint in a packed array");
            count++;
        }
    } else {
        size_t size = wire == WIRE_FIXED32 ? 4 : 8;
        if ((end - start) % size != 0) {
            char detail[96];
            snprintf(detail, sizeof detail, "length %zu is not a multiple of %zu", end - start, size);
            return fail(w, ONNX_PREPASS_BAD_PACKED, start, detail);
        }
        count = (end - start) / size;
    }
    return charge(w, (uint64_t)count * element_size(field->type), start);
}

static OnnxPrepassStatus walk_field(Walker *w, const ProtobufCMessageDescriptor *message,
                                    const ProtobufCFieldDescriptor *field, uint64_t tag, size_t tag_start,
                                    int wire, size_t value_start, size_t value_end) {
    int expected = natural_wire_type(field->type);
    bool packed = wire == WIRE_LENGTH && expected != WIRE_LENGTH && field->label == PROTOBUF_C_LABEL_REPEATED;
    if (wire != expected && !packed) {
        char detail[96];
        snprintf(detail, sizeof detail, "wire type %d, expected %d", wire, expected);
        return fail(w, ONNX_PREPASS_WRONG_WIRE_TYPE, tag_start, detail);
    }

    OnnxPrepassStatus status;
    if (packed) {
        // An empty packed array adds no elements, and is left out: for one,
        // protobuf-c 1.4 copies zero bytes to a NULL array (undefined
        // behaviour, which the fuzz build's UBSan reports).
        if (value_start == value_end) return ONNX_PREPASS_OK;
        if ((status = check_packed(w, field, value_start, value_end))) return status;
    } else if (field->type == PROTOBUF_C_TYPE_MESSAGE) {
        if (w->depth + 1 > ONNX_PREPASS_MAX_DEPTH) {
            char detail[64];
            snprintf(detail, sizeof detail, "nesting deeper than %d levels", ONNX_PREPASS_MAX_DEPTH);
            return fail(w, ONNX_PREPASS_TOO_DEEP, value_start, detail);
        }
        const ProtobufCMessageDescriptor *child = field->descriptor;
        if ((status = charge(w, child->sizeof_message + element_size(field->type), value_start))) return status;
        if (!emit_varint(w, tag) || !reserve(w, 5)) return fail(w, ONNX_PREPASS_OUT_OF_MEMORY, value_start, NULL);
        size_t length_at = w->out_length;
        w->out_length += 5;
        w->depth++;
        w->frames[w->depth] = (Frame){child, NULL, 0};
        status = walk_message(w, child, value_start, value_end);
        w->depth--;
        if (status) return status;
        size_t child_length = w->out_length - length_at - 5;
        if (child_length > INT_MAX)
            return fail(w, ONNX_PREPASS_TOO_LARGE, value_start, "a message without its tensor data exceeds 2 GB");
        patch_length5(w->out + length_at, (uint32_t)child_length);
        return ONNX_PREPASS_OK;
    } else if (wire == WIRE_LENGTH) {
        if (is_lifted_payload(message, field)) {
            size_t index;
            if (!add_span(w, value_start, value_end - value_start, &index))
                return fail(w, ONNX_PREPASS_OUT_OF_MEMORY, value_start, NULL);
            if (!emit_varint(w, ((uint64_t)ONNX_PREPASS_LIFTED_FIELD << 3) | WIRE_VARINT) || !emit_varint(w, index))
                return fail(w, ONNX_PREPASS_OUT_OF_MEMORY, value_start, NULL);
            // protobuf-c keeps the marker as an unknown field.
            return charge(w, sizeof(ProtobufCMessageUnknownField) + 16, value_start);
        }
        if ((status = charge(w, (value_end - value_start) + 1 + element_size(field->type), value_start))) return status;
    } else {
        if ((status = charge(w, element_size(field->type), value_start))) return status;
    }

    // Scalars, strings and packed arrays are copied through unchanged.
    if (!emit_varint(w, tag) ) return fail(w, ONNX_PREPASS_OUT_OF_MEMORY, value_start, NULL);
    if (wire == WIRE_LENGTH && !emit_varint(w, value_end - value_start))
        return fail(w, ONNX_PREPASS_OUT_OF_MEMORY, value_start, NULL);
    if (!emit(w, w->data + value_start, value_end - value_start))
        return fail(w, ONNX_PREPASS_OUT_OF_MEMORY, value_start, NULL);
    return ONNX_PREPASS_OK;
}

static OnnxPrepassStatus walk_message(Walker *w, const ProtobufCMessageDescriptor *message, size_t start, size_t end) {
    // Element counts of repeated fields so far, for the path; ONNX messages
    // have at most a few dozen fields.
    uint32_t counts[64] = {0};
    Frame *frame = &w->frames[w->depth];
    size_t pos = start;
    while (pos < end) {
        size_t tag_start = pos;
        frame->field = NULL;
        uint64_t tag;
        bool truncated;
        if (!read_varint(w->data, &pos, end, &tag, &truncated)) {
            if (truncated && end == w->length) return fail(w, ONNX_PREPASS_TRUNCATED, tag_start, "in a field tag");
            if (truncated) return fail(w, ONNX_PREPASS_OVERRUN, tag_start, "a field tag runs past the end of its message");
            return fail(w, ONNX_PREPASS_BAD_VARINT, tag_start, "in a field tag");
        }
        uint64_t number = tag >> 3;
        int wire = (int)(tag & 7);
        if (number == 0 || number > ONNX_PREPASS_LIFTED_FIELD) {
            char detail[64];
            snprintf(detail, sizeof detail, "field number %llu", (unsigned long long)number);
            return fail(w, ONNX_PREPASS_BAD_TAG, tag_start, detail);
        }

        const ProtobufCFieldDescriptor *field = protobuf_c_message_descriptor_get_field(message, (unsigned)number);
        if (field) {
            size_t slot = (size_t)(field - message->fields);
            frame->field = field;
            frame->index = slot < 64 ? counts[slot] : 0;
            if (slot < 64) counts[slot]++;
        }

        size_t value_start = pos, value_end;
        switch (wire) {
        case WIRE_VARINT: {
            uint64_t ignored;
            if (!read_varint(w->data, &pos, end, &ignored, &truncated)) {
                if (truncated && end == w->length) return fail(w, ONNX_PREPASS_TRUNCATED, value_start, "in a varint");
                if (truncated) return fail(w, ONNX_PREPASS_OVERRUN, value_start, "a varint runs past the end of its message");
                return fail(w, ONNX_PREPASS_BAD_VARINT, value_start, NULL);
            }
            value_end = pos;
            break;
        }
        case WIRE_FIXED64:
        case WIRE_FIXED32: {
            size_t size = wire == WIRE_FIXED64 ? 8 : 4;
            if (end - pos < size) {
                if (end == w->length) return fail(w, ONNX_PREPASS_TRUNCATED, value_start, "in a fixed-size value");
                return fail(w, ONNX_PREPASS_OVERRUN, value_start, "a fixed-size value runs past the end of its message");
            }
            pos += size;
            value_end = pos;
            break;
        }
        case WIRE_LENGTH: {
            uint64_t declared;
            if (!read_varint(w->data, &pos, end, &declared, &truncated)) {
                if (truncated && end == w->length) return fail(w, ONNX_PREPASS_TRUNCATED, value_start, "in a length prefix");
                if (truncated) return fail(w, ONNX_PREPASS_OVERRUN, value_start, "a length prefix runs past the end of its message");
                return fail(w, ONNX_PREPASS_BAD_VARINT, value_start, "in a length prefix");
            }
            if (declared > end - pos) {
                char detail[128];
                snprintf(detail, sizeof detail, "declared length %llu, %zu bytes left",
                         (unsigned long long)declared, end - pos);
                return fail(w, end == w->length ? ONNX_PREPASS_TRUNCATED : ONNX_PREPASS_OVERRUN, value_start, detail);
            }
            value_start = pos;
            pos += (size_t)declared;
            value_end = pos;
            break;
        }
        default: {
            char detail[64];
            snprintf(detail, sizeof detail, "wire type %d", wire);
            return fail(w, ONNX_PREPASS_BAD_WIRE_TYPE, tag_start, detail);
        }
        }

        // Unknown fields (including a forged lifted-payload marker) are
        // validated above and dropped here.
        if (!field) continue;
        OnnxPrepassStatus status = walk_field(w, message, field, tag, tag_start, wire, value_start, value_end);
        if (status) return status;
    }
    frame->field = NULL;
    return ONNX_PREPASS_OK;
}

// MARK: - Entry points

OnnxPrepassStatus onnx_prepass(const uint8_t *data, size_t length,
                               OnnxPrepassRoot root_kind,
                               uint64_t memory_budget,
                               OnnxPrepassResult *result) {
    const ProtobufCMessageDescriptor *root;
    switch (root_kind) {
    case ONNX_PREPASS_ROOT_TENSOR: root = &onnx__tensor_proto__descriptor; break;
    case ONNX_PREPASS_ROOT_SEQUENCE: root = &onnx__sequence_proto__descriptor; break;
    case ONNX_PREPASS_ROOT_OPTIONAL: root = &onnx__optional_proto__descriptor; break;
    default: root = &onnx__model_proto__descriptor; break;
    }
    memset(result, 0, sizeof *result);
    Walker *w = calloc(1, sizeof *w);
    if (!w) {
        result->status = ONNX_PREPASS_OUT_OF_MEMORY;
        return result->status;
    }
    w->data = data;
    w->length = length;
    w->budget = memory_budget;
    w->result = result;
    w->frames[0] = (Frame){root, NULL, 0};

    OnnxPrepassStatus status = charge(w, root->sizeof_message, 0);
    if (!status) status = walk_message(w, root, 0, length);
    if (status) {
        free(w->out);
        free(w->spans);
    } else {
        result->skeleton = w->out;
        result->skeleton_length = w->out_length;
        result->spans = w->spans;
        result->span_count = w->span_count;
        result->unpacked_bytes = w->unpacked_bytes;
        result->status = ONNX_PREPASS_OK;
    }
    free(w);
    return status;
}

void onnx_prepass_free(OnnxPrepassResult *result) {
    free(result->skeleton);
    free(result->spans);
    result->skeleton = NULL;
    result->spans = NULL;
    result->skeleton_length = 0;
    result->span_count = 0;
}
