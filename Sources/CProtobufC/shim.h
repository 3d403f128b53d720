// libprotobuf-c, from the system (Debian: libprotobuf-c-dev).
#include <protobuf-c/protobuf-c.h>
