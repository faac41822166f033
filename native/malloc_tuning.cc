// Bounds what glibc's malloc keeps of the memory the daemon frees.
//
// glibc raises its mmap threshold to the size of any mapped block that is freed (up to 32 MiB; 512 KiB
// on 32-bit) and its trim threshold to twice that. In the daemon one freed block of 4 MiB was enough:
// from then on an arena gave nothing back until 8 MiB lay free at its top, and the arenas of V8's worker
// threads (compile and GC jobs) grew to their high-water marks, so RSS rose for the first half hour of a
// soak (bench/soak.ts) before levelling off. Setting the thresholds turns glibc's raising off: blocks of
// kMmapThreshold and more are mapped and unmapped, and an arena hands back what lies free at its top
// beyond kTrimThreshold.
#include <stdlib.h>  // defines __GLIBC__ on glibc

// uClibc-ng defines __GLIBC__ too, without glibc's malloc.
#if defined(__GLIBC__) && !defined(__UCLIBC__)
#define HAVE_GLIBC_MALLOC 1
#include <malloc.h>
#endif

#include "exports.h"

namespace rpmsg_eth {

// limitMallocRetention(): true once set; false where the C library is not glibc (or refused a value).
static Napi::Value LimitMallocRetention(const Napi::CallbackInfo& info) {
#ifdef HAVE_GLIBC_MALLOC
  constexpr int kMmapThreshold = 256 * 1024;
  constexpr int kTrimThreshold = 512 * 1024;
  bool set = mallopt(M_MMAP_THRESHOLD, kMmapThreshold) == 1 && mallopt(M_TRIM_THRESHOLD, kTrimThreshold) == 1;
#else
  bool set = false;
#endif
  return Napi::Boolean::New(info.Env(), set);
}

void InitMallocTuning(Napi::Env env, Napi::Object exports) {
  exports.Set("limitMallocRetention", Napi::Function::New(env, LimitMallocRetention, "limitMallocRetention"));
}

}  // namespace rpmsg_eth
