#!/usr/bin/env python3
# crash_layout.py — the helper test_crash.sh drives: it snapshots a tree, checks
# that an OCI layout is intact after a killed or failed build (every
# pre-existing file unchanged, index.json parses and reaches only complete
# blobs, temp files accounted for), and runs a build while watching it so it
# can be killed at a chosen point (a file appearing, bytes written, a signal).
#
# Usage (see test_crash.sh):
#   crash_layout.py snapshot ROOT OUT.json
#   crash_layout.py check ROOT SNAPSHOT.json|- [--strict] [--layout REL] [TAG=DIGEST|TAG=*|TAG=!DIGEST ...]
#   crash_layout.py run MODE ARG SIGNAL HOT_BYTES LAYOUT OUT ERR -- ARGV...
import glob, hashlib, json, os, re, signal, stat, subprocess, sys, time

HEX = re.compile(r'^[0-9a-f]{64}$')
TMP = re.compile(r'^\.[^/]+\.tmp-[A-Za-z0-9]{6}$')

def sha256_file(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()

def snapshot(root):
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            if stat.S_ISDIR(st.st_mode):
                out[rel] = 'dir %o' % stat.S_IMODE(st.st_mode)
            elif stat.S_ISLNK(st.st_mode):
                out[rel] = 'link ' + os.readlink(p)
            elif stat.S_ISREG(st.st_mode):
                out[rel] = 'file %o %d %s' % (stat.S_IMODE(st.st_mode), st.st_size, sha256_file(p))
            else:
                out[rel] = 'other %o' % st.st_mode
    return out

def check(root, layout_rel, pristine_file, expect, strict):
    """expect: {tag: digest or '*'}; tags of the pristine index are required
    with their old digests; other tags in `expect` are optional unless the
    digest is prefixed with '!' (required)."""
    errors = []
    pristine = json.load(open(pristine_file)) if pristine_file else {}
    now = snapshot(root)
    layout = os.path.join(root, layout_rel) if layout_rel else root
    index_rel = os.path.join(layout_rel, 'index.json') if layout_rel else 'index.json'
    blobs_rel = os.path.join(layout_rel, 'blobs', 'sha256') if layout_rel else os.path.join('blobs', 'sha256')
    summary = {'tmp': 0, 'tmpbytes': 0, 'unref': 0, 'newblobs': 0, 'tags': []}
    # 1. Every pre-existing entry is still there, byte for byte (index.json
    #    may only change by a completed build, checked below).
    index_changed = False
    for rel, val in sorted(pristine.items()):
        if rel == index_rel and now.get(rel) != val and not strict:
            index_changed = True
            continue
        if rel not in now:
            errors.append('missing: %s' % rel)
        elif now[rel] != val:
            errors.append('changed: %s (%s -> %s)' % (rel, val[:40], now[rel][:40]))
    # 2. index.json parses and everything it references is complete.
    referenced = set()
    tags = {}
    try:
        index = json.load(open(os.path.join(layout, 'index.json')))
        if index.get('schemaVersion') != 2 or not isinstance(index.get('manifests'), list):
            errors.append('index.json: bad schemaVersion/manifests')
            index = {'manifests': []}
    except Exception as e:
        errors.append('index.json does not parse: %s' % e)
        index = {'manifests': []}

    def blob(desc, what):
        d = desc.get('digest', '')
        if not d.startswith('sha256:') or not HEX.match(d[7:]):
            errors.append('%s: bad digest %r' % (what, d))
            return None
        p = os.path.join(layout, 'blobs', 'sha256', d[7:])
        referenced.add(d[7:])
        if not os.path.isfile(p):
            errors.append('%s: blob %s missing' % (what, d))
            return None
        if os.path.getsize(p) != desc.get('size'):
            errors.append('%s: blob %s has size %d, descriptor says %s' % (what, d, os.path.getsize(p), desc.get('size')))
            return None
        if sha256_file(p) != d[7:]:
            errors.append('%s: blob %s content does not match its digest' % (what, d))
            return None
        return p

    for m in index['manifests']:
        tag = (m.get('annotations') or {}).get('org.opencontainers.image.ref.name', '<untagged>')
        if tag in tags:
            errors.append('tag %s twice in index.json' % tag)
        tags[tag] = m.get('digest')
        p = blob(m, 'manifest of ' + tag)
        if not p:
            continue
        try:
            man = json.load(open(p))
        except Exception as e:
            errors.append('manifest of %s does not parse: %s' % (tag, e))
            continue
        blob(man.get('config', {}), 'config of ' + tag)
        for i, layer in enumerate(man.get('layers', [])):
            blob(layer, 'layer %d of %s' % (i, tag))
    summary['tags'] = sorted(tags)
    # 3. Tags: the pristine ones unchanged; others only as expected.
    old_tags = {}
    if pristine_file:
        try:
            pristine_index = json.load(open(os.path.join(os.path.dirname(pristine_file), 'pristine-index.json')))
            for m in pristine_index['manifests']:
                old_tags[m['annotations']['org.opencontainers.image.ref.name']] = m['digest']
        except Exception:
            pass
    for tag, digest in old_tags.items():
        if tag in expect:
            continue
        if tags.get(tag) != digest:
            errors.append('tag %s: %s, was %s' % (tag, tags.get(tag), digest))
    for tag, digest in expect.items():
        required = digest.startswith('!')
        digest = digest.lstrip('!')
        if tag not in tags:
            if required:
                errors.append('tag %s missing from index.json' % tag)
            continue
        if digest != '*' and tags[tag] != digest:
            errors.append('tag %s is %s, a clean build gives %s' % (tag, tags[tag], digest))
    for tag in tags:
        if tag not in old_tags and tag not in expect:
            errors.append('unexpected tag %s in index.json' % tag)
    if index_changed and set(tags) <= set(old_tags):
        errors.append('index.json changed but names the same tags')
    # 4. New entries: hidden temp files, or complete blobs (name == sha256).
    for path, val in sorted(now.items()):
        if path in pristine:
            continue
        base = os.path.basename(path)
        parent = os.path.dirname(path)
        if strict:
            errors.append('new entry: %s (%s)' % (path, val.split(' ')[0]))
        elif TMP.match(base) and val.startswith('file') and parent in (blobs_rel, layout_rel):
            summary['tmp'] += 1
            summary['tmpbytes'] += int(val.split(' ')[2])
        elif parent == blobs_rel and HEX.match(base) and val.startswith('file'):
            if val.split(' ')[3] != base:
                errors.append('blob %s: content does not match its name (a torn blob under its final name)' % path)
            elif base in referenced:
                summary['newblobs'] += 1
            else:
                summary['unref'] += 1
        else:
            errors.append('unexpected new entry: %s (%s)' % (path, val.split(' ')[0]))
    for e in errors:
        print('ERROR ' + e)
    print('SUMMARY tags=%s tmp=%d tmpbytes=%d unref=%d newblobs=%d' % (
        ','.join(summary['tags']), summary['tmp'], summary['tmpbytes'], summary['unref'], summary['newblobs']))
    return 1 if errors else 0

def run(mode, arg, signame, hot, layout, out, err, argv):
    """Starts argv (stdout/stderr to files), sends the signal when the
    condition holds, waits; prints STATUS SECONDS_AT_SIGNAL TEMP_BYTES_AT_SIGNAL
    (STATUS: the exit status, or sigN when killed by signal N; '-' for the
    time/bytes when the build ended before the condition held). SIGNAME
    may name two signals, "INT+TERM": both are sent at once, in that order
    (two different signals are never merged into one, as two SIGINTs sent
    together can be)."""
    sigs = [getattr(signal, 'SIG' + name) for name in signame.split('+')]
    sig = sigs[0]
    blobs = os.path.join(layout, 'blobs', 'sha256')
    def tmp_sizes():
        out = {}
        try:
            for e in os.scandir(blobs):
                if e.name.startswith('.blob.tmp-'):
                    try:
                        out[e.name] = e.stat().st_size
                    except OSError:
                        pass
        except OSError:
            pass
        return out
    try:
        index_ino = os.stat(os.path.join(layout, 'index.json')).st_ino
    except OSError:
        index_ino = None
    start = time.time()
    child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=open(out, 'w'), stderr=open(err, 'w'))
    when, at_bytes, t_sig = '-', '-', None
    while child.poll() is None:
        now = time.time()
        if now - start > 120:
            child.kill()
            break
        fire = False
        if mode == 'time':
            fire = now - start >= float(arg)
        elif mode == 'bytes':
            fire = any(s >= int(arg) for s in tmp_sizes().values())
        elif mode == 'exists':
            fire = os.path.exists(arg)
        elif mode == 'indexchanged':
            # index.json replaced (the commit point passed)
            try:
                fire = os.stat(os.path.join(layout, 'index.json')).st_ino != index_ino
            except OSError:
                pass
        elif mode == 'globbytes':
            # ARG = N@GLOB: a file matching GLOB holds N bytes
            n, pattern = arg.split('@', 1)
            for g in glob.glob(pattern):
                try:
                    if os.path.getsize(g) >= int(n):
                        fire = True
                except OSError:
                    pass
        elif mode == 'caught':
            # as soon as the process has a handler for the signal
            try:
                with open('/proc/%d/status' % child.pid) as f:
                    cgt = [l for l in f if l.startswith('SigCgt:')][0].split()[1]
                fire = bool(int(cgt, 16) & (1 << (sig - 1)))
            except (OSError, IndexError):
                pass
        elif mode == 'indextmp':
            try:
                fire = any(n.startswith('.index.json.tmp-') for n in os.listdir(layout))
            except OSError:
                pass
        if fire:
            sizes = tmp_sizes()
            for s in sigs:
                child.send_signal(s)
            when, at_bytes = '%.3f' % (time.time() - start), str(max(sizes.values(), default=0))
            t_sig = time.time()
            break
        # Phase conditions need a tight poll, but only near the end of the
        # layer (temp blob >= HOT bytes): before that, do not steal a core.
        if mode in ('exists', 'indextmp', 'indexchanged') and any(s >= hot for s in tmp_sizes().values()):
            hot = 0
        time.sleep(0.00002 if mode in ('exists', 'indextmp', 'indexchanged') and hot == 0 else 0.002)
    rc = child.wait()
    stop_ms = '-' if t_sig is None else str(int((time.time() - t_sig) * 1000))
    print('%s %s %s %s' % ('sig%d' % -rc if rc < 0 else str(rc), when, at_bytes, stop_ms))
    return 0

cmd = sys.argv[1]
if cmd == 'snapshot':
    json.dump(snapshot(sys.argv[2]), open(sys.argv[3], 'w'), indent=0, sort_keys=True)
elif cmd == 'check':
    # check ROOT PRISTINE|- [--strict] [--layout REL] [TAG=DIGEST|TAG=*|TAG=!DIGEST ...]
    args = sys.argv[4:]
    strict = '--strict' in args
    rel = ''
    if '--layout' in args:
        rel = args[args.index('--layout') + 1]
        args = [a for a in args if a not in ('--layout', rel)]
    expect = dict(a.split('=', 1) for a in args if a != '--strict')
    sys.exit(check(sys.argv[2], rel, None if sys.argv[3] == '-' else sys.argv[3], expect, strict))
elif cmd == 'run':
    # run MODE ARG SIGNAL HOT_BYTES LAYOUT OUT ERR -- ARGV...
    a = sys.argv
    sys.exit(run(a[2], a[3], a[4], int(a[5]), a[6], a[7], a[8], a[10:]))
