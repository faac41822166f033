# The native binding: TAP devices, rpmsg device ioctls and the data plane (see native/README.md).
# Built by `npm install` / `npm ci` / `npm rebuild` through node-gyp (package.json has no install script,
# so npm runs `node-gyp rebuild` because this file exists).
{
  "targets": [
    {
      "target_name": "rpmsg_eth_native",
      "sources": [
        "native/addon.cc",
        "native/errno_error.cc",
        "native/netns_guard.cc",
        "native/tap.cc",
        "native/seqpacket.cc",
        "native/dataplane/binding.cc",
        "native/dataplane/channel.cc",
        "native/dataplane/channel_thread.cc",
        "native/dataplane/sim_endpoint.cc",
        "native/dataplane/device_endpoint.cc",
        "frag/rpmsg_frag.c",
        "native/netns_call.cc",
        "native/rpmsg_dev.cc",
        "native/rtnetlink.cc",
        "native/sd_notify.cc",
        "native/ethtool_stats.cc",
        "native/packet_socket.cc",
        "native/malloc_tuning.cc"
      ],
      "dependencies": [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"
      ],
      "include_dirs": ["kmod"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-missing-field-initializers"]
    }
  ]
}
