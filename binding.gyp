{
  "targets": [
    {
      "target_name": "superchunk_fuse",
      "sources": [
        "native/attrcache.c",
        "native/binding.c",
        "native/dircache.c",
        "native/dispatch.c",
        "native/inval.c",
        "native/listing.c",
        "native/ops.c",
        "native/preload.c",
        "native/reply.c"
      ],
      "defines": ["NAPI_VERSION=8", "FUSE_USE_VERSION=312"],
      "cflags": ["<!@(pkg-config fuse3 --cflags)", "-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"],
      "libraries": ["<!@(pkg-config fuse3 --libs)"]
    }
  ]
}
