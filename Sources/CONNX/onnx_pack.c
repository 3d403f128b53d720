// Streaming output for the ONNX writer; see include/onnx_pack.h for why.
#include "onnx_pack.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/// Linux transfers at most 0x7ffff000 bytes per write(2); asking for no more
/// than 1 GB keeps each call within every platform's limit.
#define MAX_WRITE_BYTES ((size_t)1 << 30)

static void describe(int code, char *error, size_t error_size) {
    if (error != NULL && error_size > 0) {
        snprintf(error, error_size, "%s", strerror(code));
    }
}

/// Returns 0 or the errno of the failed write.
static int write_fully(int fd, const uint8_t *data, size_t length) {
    while (length > 0) {
        size_t chunk = length < MAX_WRITE_BYTES ? length : MAX_WRITE_BYTES;
        ssize_t written = write(fd, data, chunk);
        if (written < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        // A regular file returns 0 only when it cannot take more bytes.
        if (written == 0) return ENOSPC;
        data += written;
        length -= (size_t)written;
    }
    return 0;
}

/// A ProtobufCBuffer that stages small appends and writes large ones directly.
/// protobuf-c's append cannot fail, so the first error is kept and every later
/// append is ignored.
typedef struct {
    ProtobufCBuffer base;
    int fd;
    uint8_t *staging;
    size_t used;
    int error;
} FdBuffer;

static void flush_staging(FdBuffer *buffer) {
    if (buffer->error == 0 && buffer->used > 0) {
        buffer->error = write_fully(buffer->fd, buffer->staging, buffer->used);
    }
    buffer->used = 0;
}

static void fd_buffer_append(ProtobufCBuffer *base, size_t length, const uint8_t *data) {
    FdBuffer *buffer = (FdBuffer *)base;
    if (buffer->error != 0 || length == 0) return;
    if (length <= ONNX_PACK_STAGING_BYTES - buffer->used) {
        memcpy(buffer->staging + buffer->used, data, length);
        buffer->used += length;
        return;
    }
    flush_staging(buffer);
    if (length < ONNX_PACK_STAGING_BYTES) {
        memcpy(buffer->staging, data, length);
        buffer->used = length;
    } else if (buffer->error == 0) {
        // Weights: straight from the tensor's memory to the file, no copy.
        buffer->error = write_fully(buffer->fd, data, length);
    }
}

int onnx_pack_to_fd(const ProtobufCMessage *message, int fd, char *error, size_t error_size) {
    FdBuffer buffer = { .base = { .append = fd_buffer_append }, .fd = fd, .used = 0, .error = 0 };
    buffer.staging = malloc(ONNX_PACK_STAGING_BYTES);
    if (buffer.staging == NULL) {
        describe(ENOMEM, error, error_size);
        return ENOMEM;
    }
    protobuf_c_message_pack_to_buffer(message, &buffer.base);
    flush_staging(&buffer);
    free(buffer.staging);
    if (buffer.error != 0) describe(buffer.error, error, error_size);
    return buffer.error;
}
