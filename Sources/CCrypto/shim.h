// OpenSSL's libcrypto, from the system (Debian: libssl-dev), for SHA-256:
// its implementation uses the CPU's SHA extensions where present.
#include <openssl/sha.h>
