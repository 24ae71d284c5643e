# meta-oe's libdeflate recipe is target-only; ocipack-native needs libdeflate-native.
BBCLASSEXTEND += "native"
