# meta-intel's isa-l recipe is target-only; ocipack-native (PACKAGECONFIG "isal")
# needs isa-l-native. The recipe's COMPATIBLE_HOST limits it to x86_64 build
# hosts; elsewhere set PACKAGECONFIG:pn-ocipack-native = "" instead.
BBCLASSEXTEND += "native"
