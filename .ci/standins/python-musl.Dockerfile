# A musl CPython stand-in, built from Debian's own source packages: neither Docker Hub's
# python:*-alpine nor Alpine's package mirrors are reachable on the machines CI runs on. It proves
# the musl half of the Alpine path (musllinux wheels fetched, stripped, installed offline, loaded
# and serving) and is honest about what it is: a Debian userland (apt, no apk), its os-release says
# Debian with VARIANT_ID=musl, and the build treats it as the flavor `debian-musl`.
# Built by `.ci/provision tests` as localhost/python:3.13-musl; BuildKit keeps it cached.
# No `# syntax=` line: the engine's built-in frontend builds this.
# DL3008: Debian's packages here come from trixie with its security updates; what is pinned is
#   the source each library is built from. DL3003: each build step enters its versioned source
#   folder, whose name comes from the archive. SC2016: the wrapper is written with its $1 as is.
# hadolint global ignore=DL3008,DL3003,SC2016

# Debian trixie minbase (.ci/provision imports it with mmdebstrap and names it: .ci/standins.env).
ARG DEBIAN_IMAGE

# The sources, at pinned versions; the mirror keeps only the newest of each, so an unversioned
# download is the fallback when a pinned one is gone.
FROM ${DEBIAN_IMAGE} AS sources
ARG PYTHON_SOURCE=python3.13=3.13.5-2+deb13u5
ARG ZLIB_SOURCE=zlib=1:1.3.dfsg+really1.3.1-1
ARG OPENSSL_SOURCE=openssl=3.5.7-1~deb13u2
WORKDIR /sources
RUN echo 'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main' \
        > /etc/apt/sources.list.d/sources.list \
    && apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends xz-utils >/dev/null \
    && for source in "${PYTHON_SOURCE}" "${ZLIB_SOURCE}" "${OPENSSL_SOURCE}"; do \
        apt-get source --download-only -qq "${source}" \
        || { echo "pinned ${source} is gone from the mirror; taking the newest ${source%%=*}"; \
             apt-get source --download-only -qq "${source%%=*}"; } || exit 1; \
    done \
    && for archive in *.orig.tar.gz *.orig.tar.xz; do tar -xf "${archive}"; done \
    && rm -f ./*.tar.* ./*.dsc \
    && ls

# musl's compiler wrapper, kernel headers beside musl's own, and the libraries CPython links
# (zlib, OpenSSL; no libffi, so no ctypes: the stack does not use it).
FROM ${DEBIAN_IMAGE} AS build
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        gcc make musl musl-dev musl-tools linux-libc-dev perl xz-utils pkgconf >/dev/null
# musl-gcc answers --print-multiarch with the host's glibc triplet, which stops CPython's
# configure; and musl's include path has no kernel headers. The wrapper fixes both. glibc's
# loader must not look in /usr/local/lib, where the musl libraries go (gcc itself loads libz).
RUN rm -f /etc/ld.so.conf.d/libc.conf && ldconfig \
    && mkdir -p /usr/local/musl/kernel-headers \
    && cp -rL /usr/include/linux /usr/include/asm-generic /usr/local/musl/kernel-headers/ \
    && cp -rL "/usr/include/$(uname -m)-linux-gnu/asm" /usr/local/musl/kernel-headers/ \
    && printf '#!/bin/sh\n# musl-gcc with kernel headers, answering for the musl triplet (wheelbase musl stand-in).\ncase "$1" in --print-multiarch) echo %s-linux-musl; exit 0 ;; esac\nexec musl-gcc -isystem /usr/local/musl/kernel-headers "$@"\n' \
        "$(uname -m)" > "/usr/local/bin/$(uname -m)-linux-musl-gcc" \
    && chmod 755 "/usr/local/bin/$(uname -m)-linux-musl-gcc"
ENV PKG_CONFIG_LIBDIR=/usr/local/lib/pkgconfig
COPY --from=sources /sources /sources
RUN cd /sources/zlib-* && CC="$(uname -m)-linux-musl-gcc" ./configure --prefix=/usr/local >/dev/null \
    && make -j"$(nproc)" >/dev/null && make install >/dev/null
RUN cd /sources/openssl-* && ./Configure "linux-$(uname -m)" --prefix=/usr/local --libdir=lib --openssldir=/etc/ssl \
        shared no-tests no-docs no-apps CC="$(uname -m)-linux-musl-gcc" >/dev/null \
    && make -j"$(nproc)" build_libs >/dev/null && make install_dev >/dev/null
RUN cd /sources/Python-* \
    && ./configure --prefix=/usr/local --with-openssl=/usr/local --with-ensurepip=install --without-static-libpython \
        CC="$(uname -m)-linux-musl-gcc" LDFLAGS="-Wl,-rpath,/usr/local/lib" >/dev/null \
    && make -j"$(nproc)" >/dev/null \
    && make install >/dev/null \
    && ln -s python3 /usr/local/bin/python && ln -s pip3 /usr/local/bin/pip \
    && find /usr/local -depth -type d \( -name test -o -name tests -o -name idle_test -o -name __pycache__ \) -exec rm -rf '{}' + \
    && find /usr/local -type f \( -name '*.so*' -o -perm -u+x \) -exec strip --strip-unneeded '{}' + 2>/dev/null; \
    /usr/local/bin/python3 -c "import ssl, zlib, sys; print(sys.version, ssl.OPENSSL_VERSION)"

# The image: Debian's userland with musl's loader, CA certificates and the musl CPython in /usr/local.
# No compiler and no Debian Python; apt stays, with its caches emptied, as in the official
# Debian-based images. glibc's programs (apt) do not look in /usr/local/lib, whose libraries are musl's.
FROM ${DEBIAN_IMAGE} AS python-musl
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends musl ca-certificates >/dev/null \
    && apt-get clean && rm -rf /var/lib/apt/lists/* \
    && rm -f /etc/ld.so.conf.d/libc.conf && ldconfig \
    && printf 'VARIANT="musl CPython stand-in built from Debian sources (wheelbase)"\nVARIANT_ID=musl\n' >> /usr/lib/os-release
COPY --from=build /usr/local /usr/local
ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8
LABEL org.opencontainers.image.title="musl CPython stand-in" \
      org.opencontainers.image.description="CPython built against musl from Debian's source packages, on Debian trixie; not Alpine"
CMD ["python3"]
