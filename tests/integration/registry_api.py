#!/usr/bin/env python3
"""A minimal OCI distribution-spec client for the tests, talking to the
docker-registry the test itself started on 127.0.0.1 (plain HTTP).

skopeo 1.9 (Debian 12) copies images and indexes by tag but has no way to
push an OCI 1.1 referrer (an artifact manifest with a `subject`) by digest,
which is how referrers travel: this pushes one straight from an OCI layout
with the registry API (monolithic blob uploads, then PUT of the manifest
under its digest) and fetches manifests and blobs back, byte for byte.
Any host other than 127.0.0.1 is refused: the tests never talk to anything
else.

Usage:
  registry_api.py push-manifest REGISTRY REPO LAYOUT DIGEST [TAG]
      uploads the manifest's config and layer blobs from LAYOUT, then PUTs
      the manifest under DIGEST (and under TAG too when given); prints the
      Docker-Content-Digest the registry answers.
  registry_api.py get-manifest REGISTRY REPO REF OUT   (REF: tag or digest)
  registry_api.py get-blob REGISTRY REPO DIGEST OUT
  registry_api.py head-manifest REGISTRY REPO REF      (prints the status)
"""
import json
import os
import sys
import urllib.error
import urllib.request

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def base_url(registry):
    host = registry.split(":")[0]
    if host != "127.0.0.1":
        sys.exit(f"registry_api.py: refusing {registry!r}: only 127.0.0.1 is allowed")
    return f"http://{registry}/v2/"


def request(method, url, data=None, headers=None):
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def blob_file(layout, digest):
    algorithm, hex_digest = digest.split(":", 1)
    return os.path.join(layout, "blobs", algorithm, hex_digest)


def push_blob(registry, repo, layout, digest):
    url = base_url(registry) + f"{repo}/blobs/{digest}"
    status, _, _ = request("HEAD", url)
    if status == 200:
        return
    status, headers, body = request("POST", base_url(registry) + f"{repo}/blobs/uploads/")
    if status != 202:
        sys.exit(f"registry_api.py: upload of {digest} not started: HTTP {status} {body[:200]!r}")
    location = headers["Location"]
    if location.startswith("/"):
        location = f"http://{registry}{location}"
    separator = "&" if "?" in location else "?"
    with open(blob_file(layout, digest), "rb") as f:
        data = f.read()
    status, _, body = request("PUT", f"{location}{separator}digest={digest}", data,
                              {"Content-Type": "application/octet-stream"})
    if status != 201:
        sys.exit(f"registry_api.py: upload of {digest} refused: HTTP {status} {body[:200]!r}")


def push_manifest(registry, repo, layout, digest, tag=None):
    with open(blob_file(layout, digest), "rb") as f:
        payload = f.read()
    manifest = json.loads(payload)
    for descriptor in [manifest["config"]] + manifest.get("layers", []):
        push_blob(registry, repo, layout, descriptor["digest"])
    answered = None
    for ref in [digest] + ([tag] if tag else []):
        status, headers, body = request("PUT", base_url(registry) + f"{repo}/manifests/{ref}", payload,
                                        {"Content-Type": manifest.get("mediaType", OCI_MANIFEST)})
        if status != 201:
            sys.exit(f"registry_api.py: manifest {ref} refused: HTTP {status} {body[:300]!r}")
        answered = headers.get("Docker-Content-Digest")
    print(answered)


def get(registry, repo, kind, ref, out):
    accept = {"Accept": f"{OCI_MANIFEST}, {OCI_INDEX}"} if kind == "manifests" else {}
    status, _, body = request("GET", base_url(registry) + f"{repo}/{kind}/{ref}", headers=accept)
    if status != 200:
        sys.exit(f"registry_api.py: GET {kind}/{ref}: HTTP {status}")
    with open(out, "wb") as f:
        f.write(body)


def main(argv):
    if len(argv) >= 5 and argv[1] == "push-manifest":
        push_manifest(argv[2], argv[3], argv[4], argv[5], argv[6] if len(argv) > 6 else None)
    elif len(argv) == 6 and argv[1] == "get-manifest":
        get(argv[2], argv[3], "manifests", argv[4], argv[5])
    elif len(argv) == 6 and argv[1] == "get-blob":
        get(argv[2], argv[3], "blobs", argv[4], argv[5])
    elif len(argv) == 5 and argv[1] == "head-manifest":
        status, _, _ = request("HEAD", base_url(argv[2]) + f"{argv[3]}/manifests/{argv[4]}",
                               headers={"Accept": f"{OCI_MANIFEST}, {OCI_INDEX}"})
        print(status)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
