// The CONNX module: protoc-c output for onnx.proto, the wire-format
// pre-pass in front of protobuf-c, and streaming output for the writer.
#include "onnx.pb-c.h"
#include "onnx_prepass.h"
#include "onnx_pack.h"
