# Stand-ins for the official python images (docker-library/python), which this kind of machine
# cannot pull: CPython built as docker-library's Dockerfile for that version builds it, from the
# upstream release tarball that Debian's source package carries (its checksum is checked against
# PYTHON_SHA256, the value docker-library's versions.json records for that release).
#
#   target glibc        python:X.Y-slim-trixie's shape: /usr/local, shared libpython, pip from
#                       ensurepip, no bytecode under /usr/local, runtime libraries from Debian
#   target musl         python:X.Y-alpine's shape, with musl's CPython on a Debian userland (apt,
#                       no apk: the flavor `debian-musl`); its os-release says Debian, VARIANT_ID=musl
#
# Built by `.ci/provision` with the versions in .ci/standins.env; docs/development.md lists every
# way a stand-in still differs from the official image, and why that does not matter here.
# No `# syntax=` line: the engine's built-in frontend builds this.
# DL3008: Debian's packages come from the suite with its security updates; what is pinned is the
#   source tarball. DL3003: builds enter the source folder. DL4006: no pipe's failure goes unseen
#   (each ends in a command whose empty input fails a later check). SC2016: single quotes keep
#   $ORIGIN and the wrapper's $1 for later.
# hadolint global ignore=DL3008,DL3003,DL4006,SC2016

# Debian minbase (.ci/provision imports it with mmdebstrap and names it: .ci/standins.env).
ARG DEBIAN_IMAGE

# The release tarball from Debian's source package for SOURCE_SUITE, checked like the official
# images check python.org's.
FROM ${DEBIAN_IMAGE} AS python-source
ARG SOURCE_SUITE
ARG PYTHON_SOURCE
ARG PYTHON_SHA256
WORKDIR /usr/src
RUN echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian ${SOURCE_SUITE} main" \
        > /etc/apt/sources.list.d/sources.list \
    && apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends xz-utils >/dev/null \
    && apt-get source --download-only -qq "${PYTHON_SOURCE}" \
    && archive="$(echo python3.*_*.orig.tar.[gx]z)" \
    && echo "${PYTHON_SHA256} *${archive}" | sha256sum -c - \
    && mkdir python \
    && tar --extract --directory python --strip-components=1 --file "${archive}" \
    && rm -f python3.*

# docker-library's Debian build, without PGO and LTO (an hour on two cores; they change speed,
# not behaviour) and without the test modules, which it deletes after installing.
FROM ${DEBIAN_IMAGE} AS glibc-build
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        dpkg-dev gcc libbz2-dev libc6-dev libffi-dev libgdbm-dev liblzma-dev libncursesw5-dev libreadline-dev \
        libsqlite3-dev libssl-dev make uuid-dev xz-utils zlib1g-dev >/dev/null
COPY --from=python-source /usr/src/python /usr/src/python
WORKDIR /usr/src/python
RUN gnuArch="$(dpkg-architecture --query DEB_BUILD_GNU_TYPE)" \
    && ./configure --build="${gnuArch}" --enable-loadable-sqlite-extensions --enable-option-checking=fatal \
        --enable-shared --with-ensurepip --disable-test-modules >/dev/null \
    && EXTRA_CFLAGS="$(dpkg-buildflags --get CFLAGS) -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer" \
    && LDFLAGS="$(dpkg-buildflags --get LDFLAGS) -Wl,--strip-all" \
    && make -j "$(nproc)" "EXTRA_CFLAGS=${EXTRA_CFLAGS}" "LDFLAGS=${LDFLAGS}" >/dev/null \
    && rm python \
    && make -j "$(nproc)" "EXTRA_CFLAGS=${EXTRA_CFLAGS}" "LDFLAGS=${LDFLAGS} -Wl,-rpath='\$\$ORIGIN/../lib'" python >/dev/null \
    && make install >/dev/null \
    && find /usr/local -depth \
        \( \( -type d -a \( -name test -o -name tests -o -name idle_test \) \) \
           -o \( -type f -a \( -name '*.pyc' -o -name '*.pyo' -o -name 'libpython*.a' \) \) \) -exec rm -rf '{}' + \
    && ldconfig \
    && find /usr/local -type f -executable -exec ldd '{}' ';' \
        | awk '/=>/ { so = $(NF-1); if (index(so, "/usr/local/") == 1) { next }; gsub("^/(usr/)?", "", so); printf "*%s\n", so }' \
        | sort -u | xargs -r dpkg-query --search | awk 'sub(":$", "", $1) { print $1 }' | sort -u > /usr/src/runtime-packages \
    && test -s /usr/src/runtime-packages

# The image: Debian with the libraries the build linked, and CPython in /usr/local.
FROM ${DEBIAN_IMAGE} AS glibc
ENV PATH=/usr/local/bin:$PATH
COPY --from=glibc-build /usr/src/runtime-packages /tmp/runtime-packages
RUN apt-get update -qq \
    && xargs -a /tmp/runtime-packages apt-get install -y -qq --no-install-recommends ca-certificates netbase tzdata >/dev/null \
    && apt-get clean && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages
ARG PYTHON_VERSION
ARG PYTHON_SHA256
ENV PYTHON_VERSION=${PYTHON_VERSION} \
    PYTHON_SHA256=${PYTHON_SHA256}
COPY --from=glibc-build /usr/local /usr/local
RUN ldconfig \
    && for src in idle3 pip3 pydoc3 python3 python3-config; do \
        dst="$(echo "$src" | tr -d 3)"; [ -s "/usr/local/bin/$src" ] && [ ! -e "/usr/local/bin/$dst" ] && ln -sT "$src" "/usr/local/bin/$dst" || exit 1; \
    done \
    && PYTHONDONTWRITEBYTECODE=1 python3 --version && PYTHONDONTWRITEBYTECODE=1 pip3 --version
LABEL org.opencontainers.image.title="CPython stand-in (official python image's Debian build)" \
      org.opencontainers.image.description="CPython from the upstream tarball in Debian's source package, built as docker-library/python builds it"
CMD ["python3"]

# musl's libraries CPython links, from trixie's sources: zlib and OpenSSL (what Alpine's packages
# give the official image), built with musl's compiler wrapper into /usr/local.
FROM ${DEBIAN_IMAGE} AS musl-toolchain
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        gcc make musl musl-dev musl-tools linux-libc-dev perl xz-utils pkgconf >/dev/null \
    && rm -rf /var/lib/apt/lists/*
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

FROM ${DEBIAN_IMAGE} AS musl-library-sources
ARG ZLIB_SOURCE=zlib=1:1.3.dfsg+really1.3.1-1
ARG OPENSSL_SOURCE=openssl=3.5.7-1~deb13u2
WORKDIR /usr/src
RUN echo 'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main' \
        > /etc/apt/sources.list.d/sources.list \
    && apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends xz-utils >/dev/null \
    && for source in "${ZLIB_SOURCE}" "${OPENSSL_SOURCE}"; do \
        apt-get source --download-only -qq "${source}" \
        || { echo "pinned ${source} is gone from the mirror; taking the newest ${source%%=*}"; \
             apt-get source --download-only -qq "${source%%=*}"; } || exit 1; \
    done \
    && for archive in *.orig.tar.[gx]z; do tar -xf "${archive}"; done \
    && rm -f ./*.tar.* ./*.dsc

# OpenSSL without what CPython's ssl and hashlib never reach (QUIC, engines, legacy ciphers...),
# which halves its build.
FROM musl-toolchain AS musl-libraries
COPY --from=musl-library-sources /usr/src /usr/src
RUN cd /usr/src/zlib-* && CC="$(uname -m)-linux-musl-gcc" ./configure --prefix=/usr/local >/dev/null \
    && make -j"$(nproc)" >/dev/null && make install >/dev/null
RUN cd /usr/src/openssl-* && ./Configure "linux-$(uname -m)" --prefix=/usr/local --libdir=lib --openssldir=/etc/ssl \
        shared no-tests no-docs no-apps no-quic no-engine no-legacy no-comp no-srp no-gost no-idea no-md2 no-mdc2 \
        no-rc5 no-camellia no-seed no-sm2 no-sm3 no-sm4 no-whirlpool no-aria no-cms no-ts no-ct no-ssl3 no-dtls \
        CC="$(uname -m)-linux-musl-gcc" >/dev/null \
    && make -j"$(nproc)" build_libs >/dev/null && make install_dev >/dev/null

# docker-library's Alpine build (its EXTRA_CFLAGS give musl threads the stack glibc's have), with
# the same exceptions as the Debian one. Debian's musl searches its own multiarch folders, not
# /usr/local/lib, where OpenSSL and zlib are: the extension modules carry it as their rpath.
FROM musl-libraries AS musl-build
COPY --from=python-source /usr/src/python /usr/src/python
WORKDIR /usr/src/python
RUN ./configure --prefix=/usr/local --with-openssl=/usr/local --enable-loadable-sqlite-extensions \
        --enable-option-checking=fatal --enable-shared --with-ensurepip --disable-test-modules \
        CC="$(uname -m)-linux-musl-gcc" >/dev/null \
    && EXTRA_CFLAGS="-DTHREAD_STACK_SIZE=0x100000 -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer" \
    && make -j "$(nproc)" "EXTRA_CFLAGS=${EXTRA_CFLAGS}" "LDFLAGS=-Wl,--strip-all -Wl,-rpath,/usr/local/lib" >/dev/null \
    && rm python \
    && make -j "$(nproc)" "EXTRA_CFLAGS=${EXTRA_CFLAGS}" "LDFLAGS=-Wl,--strip-all -Wl,-rpath='\$\$ORIGIN/../lib'" python >/dev/null \
    && make install >/dev/null \
    && rm -rf /usr/local/musl /usr/local/bin/*-linux-musl-gcc /usr/local/include/openssl /usr/local/include/z*.h \
        /usr/local/lib/pkgconfig/openssl.pc /usr/local/lib/pkgconfig/lib*.pc /usr/local/lib/pkgconfig/zlib.pc /usr/local/share/man \
    && find /usr/local -depth \
        \( \( -type d -a \( -name test -o -name tests -o -name idle_test \) \) \
           -o \( -type f -a \( -name '*.pyc' -o -name '*.pyo' -o -name 'libpython*.a' -o -name 'lib*.a' \) \) \) -exec rm -rf '{}' + \
    && PYTHONDONTWRITEBYTECODE=1 /usr/local/bin/python3 -c "import ssl, zlib, sys; print(sys.version, ssl.OPENSSL_VERSION)"

# The image: Debian's userland with musl's loader, CA certificates and the musl CPython in /usr/local.
# No compiler; apt stays, with its caches emptied. glibc's programs (apt) do not look in
# /usr/local/lib, whose libraries are musl's.
FROM ${DEBIAN_IMAGE} AS musl
ENV PATH=/usr/local/bin:$PATH
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends musl ca-certificates tzdata >/dev/null \
    && apt-get clean && rm -rf /var/lib/apt/lists/* \
    && rm -f /etc/ld.so.conf.d/libc.conf && ldconfig \
    && printf 'VARIANT="musl CPython stand-in built from Debian sources (wheelbase)"\nVARIANT_ID=musl\n' >> /usr/lib/os-release
ARG PYTHON_VERSION
ARG PYTHON_SHA256
ENV PYTHON_VERSION=${PYTHON_VERSION} \
    PYTHON_SHA256=${PYTHON_SHA256}
COPY --from=musl-build /usr/local /usr/local
RUN for src in idle3 pip3 pydoc3 python3 python3-config; do \
        dst="$(echo "$src" | tr -d 3)"; [ -s "/usr/local/bin/$src" ] && [ ! -e "/usr/local/bin/$dst" ] && ln -sT "$src" "/usr/local/bin/$dst" || exit 1; \
    done \
    && PYTHONDONTWRITEBYTECODE=1 python3 --version && PYTHONDONTWRITEBYTECODE=1 pip3 --version
LABEL org.opencontainers.image.title="musl CPython stand-in" \
      org.opencontainers.image.description="CPython built against musl from the upstream tarball in Debian's source package, on Debian; not Alpine"
CMD ["python3"]
