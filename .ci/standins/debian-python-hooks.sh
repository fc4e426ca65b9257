#!/bin/sh
# mmdebstrap hooks for the stand-ins .ci/provision builds from Debian's python3 packages (bookworm's,
# and trixie's for arm64, whose every program runs under QEMU there). Debian's maintainer scripts
# byte-compile the standard library and re-read the CA certificates after each package that adds
# some: under QEMU that took 160 of the arm64 stand-in's 336 s. The official python images ship no
# stdlib bytecode, so the compile is skipped; the certificates are read once, at the end.
#
#   hold ROOT PYTHON_VERSION     before the packages install: the compilers and the certificate
#                                update diverted (dpkg-divert) and replaced by programs doing nothing
#   release ROOT PYTHON_VERSION  after: Debian's own files back in place, the certificates read once,
#                                and no bytecode left in the standard library
set -eu
step=$1 root=$2 version=$3
held="/usr/bin/py3compile /usr/lib/python$version/py_compile.py /usr/sbin/update-ca-certificates"
case "$step" in
  hold)
    for path in $held; do
      chroot "$root" dpkg-divert --quiet --local --rename --divert "$path.held" --add "$path"
      mkdir -p "$root${path%/*}"
      case "$path" in
        *.py) echo "# held by wheelbase's stand-in build while packages install: compiles nothing" >"$root$path" ;;
        *) printf '#!/bin/sh\n# held by wheelbase'"'"'s stand-in build while packages install\nexit 0\n' >"$root$path"
           chmod 755 "$root$path" ;;
      esac
    done
    ;;
  release)
    for path in $held; do
      rm -f "$root$path"
      chroot "$root" dpkg-divert --quiet --local --rename --divert "$path.held" --remove "$path"
      [ -e "$root$path" ] || { echo "$path is missing after its diversion was removed" >&2; exit 1; }
    done
    chroot "$root" update-ca-certificates --fresh >/dev/null
    # What Python itself wrote while the packages installed (a few of the encodings' modules).
    find "$root/usr/lib/python3" "$root/usr/lib/python$version" -name __pycache__ -prune -exec rm -rf '{}' +
    [ -s "$root/etc/ssl/certs/ca-certificates.crt" ] || { echo "no CA bundle in the stand-in" >&2; exit 1; }
    ;;
  *) echo "usage: $0 hold|release ROOT PYTHON_VERSION" >&2; exit 2 ;;
esac
