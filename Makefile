# The two README commands: `make run` (set up, build, serve on 127.0.0.1:8080) and
# `make test` (set up, build, run every test). The other targets are for developers.
JOBS ?= $(shell nproc)

.PHONY: run test setup build build-test build-asan serve bench clean

run:
	scripts/setup --runtime
	$(MAKE) build
	./build/app/kiln serve

test:
	scripts/setup
	scripts/test

build:
	cmake -S . -B build/app -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKILN_BUILD_TESTS=OFF >/dev/null
	cmake --build build/app -j $(JOBS) --target kiln

build-test:
	cmake -S . -B build/test -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKILN_BUILD_TESTS=ON -DKILN_SHARED_LIBS=ON >/dev/null
	cmake --build build/test -j $(JOBS)

build-asan:
	cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DKILN_SANITIZE=ON -DKILN_BUILD_TESTS=ON -DKILN_SHARED_LIBS=ON >/dev/null
	cmake --build build/asan -j $(JOBS)

serve: build
	./build/app/kiln serve

# Every benchmark (bench/<area>/run); each prints its numbers against a reference measured in the
# same run and ends with a `ratio` line. `make bench BENCHES="engine send"` runs some of them.
BENCHES ?= compose domain template send http engine import
bench:
	@for b in $(BENCHES); do echo "### bench/$$b"; bench/$$b/run || exit 1; done

clean:
	rm -rf build
