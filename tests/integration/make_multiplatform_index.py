#!/usr/bin/env python3
"""make_multiplatform_index.py LAYOUT TAG

Turns a layout's index.json entries (ocipack images, one per platform) into
one multi-platform image, by hand and independently of ocipack: a nested
image index blob listing every manifest with the platform its config says
(os, architecture, variant), stored under its sha256, and index.json replaced
by one entry for that blob tagged TAG. Used by test_layers.sh to check that
ocipack's readers, gc and the consumers read such a layout.
"""
import hashlib
import json
import os
import sys

INDEX = 'application/vnd.oci.image.index.v1+json'
REF_NAME = 'org.opencontainers.image.ref.name'


def blob(layout, digest):
    return os.path.join(layout, 'blobs', 'sha256', digest.split(':', 1)[1])


def main():
    layout, tag = sys.argv[1], sys.argv[2]
    index_path = os.path.join(layout, 'index.json')
    index = json.load(open(index_path))
    children = []
    for entry in index['manifests']:
        manifest = json.load(open(blob(layout, entry['digest'])))
        config = json.load(open(blob(layout, manifest['config']['digest'])))
        platform = {'architecture': config['architecture'], 'os': config['os']}
        if config.get('variant'):
            platform['variant'] = config['variant']
        child = {k: v for k, v in entry.items() if k != 'annotations'}
        child['platform'] = platform
        children.append(child)
    nested = json.dumps({'schemaVersion': 2, 'mediaType': INDEX, 'manifests': children},
                        separators=(',', ':')).encode()
    digest = 'sha256:' + hashlib.sha256(nested).hexdigest()
    with open(blob(layout, digest), 'wb') as out:
        out.write(nested)
    index['manifests'] = [{'mediaType': INDEX, 'digest': digest, 'size': len(nested),
                           'annotations': {REF_NAME: tag}}]
    with open(index_path, 'w') as out:
        json.dump(index, out)


if __name__ == '__main__':
    main()
