# container-nonroot-user-ocipack.bbclass: meta-virtualization's
# container-nonroot-user class with the ocipack backend, without umoci.
#
# That class gives the image a "nonroot" user (extrausers) and, in a
# do_image_oci postfunc (fix_oci_home_perms), adds a layer holding
# /home/${NONROOT_USER} (0700, owned by the user) and NONROOT_OWNED_DIRS
# with `umoci raw add-layer`, then rebuilds the .tar outputs with tar. With
# OCI_IMAGE_BACKEND = "ocipack" this class swaps that postfunc for
# ocipack_fix_oci_home_perms below: the same layer, made from a directory
# by `ocipack add-layer` (the image edited in place, byte-deterministic,
# the layer in the image's OCI_IMAGE_COMPRESSION format), the .tar written
# by ocipack and the -dir.tar normalised. It also drops the class's prefunc
# oci_nonroot_inject_user, which edits the per-layer rootfs trees of the
# umoci backend's multi mode: the ocipack backend cuts its layers from
# IMAGE_ROOTFS, where extrausers already added the user.
#
# Use it globally, so the image recipes (app-container-*.bb inherit
# container-nonroot-user) stay as they are:
#     INHERIT += "container-nonroot-user-ocipack"
# or `inherit container-nonroot-user-ocipack` in an image recipe. It works
# at the end of parsing (anonymous python), so the order of inherits does
# not matter, and it changes nothing in a recipe without
# container-nonroot-user or with another backend.

python () {
    if d.getVar('OCI_IMAGE_BACKEND') != 'ocipack':
        return
    postfuncs = (d.getVarFlag('do_image_oci', 'postfuncs') or '').split()
    if 'fix_oci_home_perms' not in postfuncs:
        return
    d.setVarFlag('do_image_oci', 'postfuncs', ' '.join(
        'ocipack_fix_oci_home_perms' if f == 'fix_oci_home_perms' else f for f in postfuncs))
    prefuncs = (d.getVarFlag('do_image_oci', 'prefuncs') or '').split()
    d.setVarFlag('do_image_oci', 'prefuncs', ' '.join(f for f in prefuncs if f != 'oci_nonroot_inject_user'))
}

do_image_oci[vardeps] += "NONROOT_USER NONROOT_UID NONROOT_GID NONROOT_OWNED_DIRS"

# The values are read as data through quoted here-documents, never as shell
# code; NONROOT_UID/GID must be numbers and every NONROOT_OWNED_DIRS entry an
# absolute path without '..'.
fakeroot ocipack_fix_oci_home_perms() {
    cd ${IMGDEPLOYDIR}
    image_name="${IMAGE_NAME}${IMAGE_NAME_SUFFIX}-oci"
    layer_dir="${WORKDIR}/oci-home-fix-layer"
    nonroot_user=$(cat <<'OCIPACK_NONROOT_EOF'
${NONROOT_USER}
OCIPACK_NONROOT_EOF
)
    nonroot_uid=$(cat <<'OCIPACK_NONROOT_EOF'
${NONROOT_UID}
OCIPACK_NONROOT_EOF
)
    nonroot_gid=$(cat <<'OCIPACK_NONROOT_EOF'
${NONROOT_GID}
OCIPACK_NONROOT_EOF
)
    owned_dirs=$(cat <<'OCIPACK_NONROOT_EOF'
${NONROOT_OWNED_DIRS}
OCIPACK_NONROOT_EOF
)
    image_tag=$(cat <<'OCIPACK_NONROOT_EOF'
${OCI_IMAGE_TAG}
OCIPACK_NONROOT_EOF
)
    compression=$(cat <<'OCIPACK_NONROOT_EOF'
${OCI_IMAGE_COMPRESSION}
OCIPACK_NONROOT_EOF
)
    level=$(cat <<'OCIPACK_NONROOT_EOF'
${OCI_IMAGE_COMPRESSION_LEVEL}
OCIPACK_NONROOT_EOF
)
    tar_output=$(cat <<'OCIPACK_NONROOT_EOF'
${OCI_IMAGE_TAR_OUTPUT}
OCIPACK_NONROOT_EOF
)
    case $nonroot_uid$nonroot_gid in
    *[!0-9]*|'') bbfatal "ocipack_fix_oci_home_perms: NONROOT_UID '$nonroot_uid' and NONROOT_GID '$nonroot_gid' must be numbers" ;;
    esac
    case $nonroot_user in
    ''|*/*|.|..) bbfatal "ocipack_fix_oci_home_perms: NONROOT_USER '$nonroot_user' is not a user name" ;;
    esac
    [ -n "$image_tag" ] || image_tag=latest
    if [ ! -f "$image_name/index.json" ]; then
        bbfatal "ocipack_fix_oci_home_perms: '$image_name' is not an OCI image layout (no index.json) in ${IMGDEPLOYDIR}"
    fi

    # The layer's tree: /home root 0755, the home 0700 owned by the user;
    # each NONROOT_OWNED_DIRS entry owned by the user (0755), the parents it
    # needs root 0755 (the first entry that names a path decides).
    umask 022
    rm -rf "$layer_dir"
    mkdir -p "$layer_dir/home/$nonroot_user"
    chown 0:0 "$layer_dir/home"
    chmod 0755 "$layer_dir/home"
    chown "$nonroot_uid:$nonroot_gid" "$layer_dir/home/$nonroot_user"
    chmod 0700 "$layer_dir/home/$nonroot_user"
    seen="
home
home/$nonroot_user
"
    set -f
    for owned in $owned_dirs; do
        case $owned in
        /*) ;;
        *) bbfatal "ocipack_fix_oci_home_perms: NONROOT_OWNED_DIRS entry '$owned' is not an absolute path" ;;
        esac
        case /$owned/ in
        */../*|*/./*) bbfatal "ocipack_fix_oci_home_perms: NONROOT_OWNED_DIRS entry '$owned' has '.' or '..' in it" ;;
        esac
        rest=${owned#/}
        rest=${rest%/}
        path=
        while [ -n "$rest" ]; do
            part=${rest%%/*}
            if [ "$part" = "$rest" ]; then rest=; else rest=${rest#*/}; fi
            [ -n "$part" ] || continue
            path=${path:+$path/}$part
            case $seen in *"
$path
"*) continue ;; esac
            seen="$seen$path
"
            mkdir -p "$layer_dir/$path"
            chmod 0755 "$layer_dir/$path"
            if [ -z "$rest" ]; then
                chown "$nonroot_uid:$nonroot_gid" "$layer_dir/$path"
            else
                chown 0:0 "$layer_dir/$path"
            fi
        done
    done
    set +f

    set -- add-layer "$image_name:$image_tag" "$layer_dir" --quiet --no-progress \
        --history.created_by "container-nonroot-user: /home/$nonroot_user and NONROOT_OWNED_DIRS"
    case $compression in
    ''|gzip) ;;
    *) set -- "$@" --compression-format "$compression" ;;
    esac
    [ -z "$level" ] || set -- "$@" --level "$level"
    case $(echo "$tar_output" | tr 'A-Z' 'a-z') in
    ''|0|false|no|off|n) tar_output= ;;
    *) tar_output="$image_name.tar"; set -- "$@" --tar-output "$tar_output" ;;
    esac
    rm -f "$image_name.tar" "$image_name-dir.tar"
    bbnote "OCI: ocipack $*"
    ocipack "$@"
    rm -rf "$layer_dir"

    if [ -n "$tar_output" ]; then
        # The directory itself as the top entry, normalised for reproducibility.
        epoch=${SOURCE_DATE_EPOCH:-$(date +%s)}
        LC_ALL=C tar --sort=name --format=posix \
            --pax-option='exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime' \
            --mtime="@$epoch" --owner=0 --group=0 --numeric-owner \
            --mode='u+rwX,go+rX,go-w' \
            -cf "$image_name-dir.tar" "$image_name"
    fi
}
