# physics-state: one image with physics-engine, physics-bridge, physics-status
# and physics-top, built on Debian bookworm from Debian packages only (the same
# ones tools/setup.sh installs). docker-compose.yml runs the engine and the
# bridge from it; see docs/operations.md.
#
# tests/ops_test.cc checks that the -dev packages below are exactly the
# dependencies CMakeLists.txt finds (find_package/find_library), and that each
# one with a shared library has its runtime package in the second stage.

FROM debian:bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config \
      libabsl-dev libboost-dev libeigen3-dev libhiredis-dev libsimdjson-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# Tests and benchmarks need GoogleTest/Benchmark and a redis-server: they run
# in CI (tools/test.sh), not in the image build.
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DPHYSICS_BUILD_TESTS=OFF -DPHYSICS_BUILD_BENCHMARKS=OFF \
 && cmake --build /build --target physics-engine physics-bridge physics-status physics-top

FROM debian:bookworm-slim AS runtime
# Only the shared libraries the programs link (ldd build/bin/*): Abseil,
# hiredis, simdjson, libstdc++. Eigen and Boost (Beast, Asio) are header-only.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libabsl20220623 libhiredis0.14 libsimdjson14 libstdc++6 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin physics
COPY --from=build /build/bin/physics-engine /build/bin/physics-bridge \
                  /build/bin/physics-status /build/bin/physics-top /usr/local/bin/
USER physics
# Configured like on the host: REDIS_URL (or REDIS_HOST/REDIS_PORT/REDIS_DB/
# REDIS_PASSWORD), REDIS_NAMESPACE, and flags; compose picks the program.
ENV REDIS_URL=redis://redis:6379/0
EXPOSE 8080
CMD ["physics-engine"]
