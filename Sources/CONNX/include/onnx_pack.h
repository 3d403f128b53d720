// Streaming output for the ONNX writer.
//
// protobuf_c_message_pack needs one buffer as large as the whole message, and
// a model is mostly weights. protobuf_c_message_pack_to_buffer instead hands
// the serialized bytes to a callback piece by piece, and passes each `bytes`
// field (a tensor's raw_data) through in one piece straight from where it
// lives. These helpers connect that callback to a file descriptor, so that
// writing a model copies its weights once, into the file, and needs no more
// memory than a small staging buffer.
#ifndef ONNX_PACK_H
#define ONNX_PACK_H

#include <stddef.h>
#include <protobuf-c/protobuf-c.h>

/// Bytes gathered before a write(2); larger pieces bypass the staging buffer.
#define ONNX_PACK_STAGING_BYTES (1u << 20)

/// Serializes `message` to `fd` through protobuf_c_message_pack_to_buffer.
/// Returns 0 on success. On failure returns the errno of the first failed
/// write (ENOMEM when the staging buffer cannot be allocated) and puts its
/// description, e.g. "No space left on device", into `error`. Retries after
/// EINTR and continues after short writes.
int onnx_pack_to_fd(const ProtobufCMessage *message, int fd, char *error, size_t error_size);

#endif
