#include "core/error.h"
#include "train/comm.h"

#include <cstdlib>

#ifdef GANDER_HAVE_MPI
#include <mpi.h>
#endif

namespace gander::train {

namespace {
// mpirun (OpenMPI, MPICH/Hydra, Slurm's PMI) tells the processes it starts through these.
bool launched_by_mpirun() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
    if (std::getenv(v)) return true;
  return false;
}

#ifdef GANDER_HAVE_MPI
void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, msg, &len);
  fail("MPI ", what, ": ", std::string(msg, size_t(len)));
}

class Mpi final : public Communicator {
 public:
  Mpi() {
    int provided = 0;
    check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "init");
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    char v[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    MPI_Get_library_version(v, &len);
    std::string s(v, size_t(len));
    version_ = s.substr(0, s.find(','));
  }
  ~Mpi() override { MPI_Finalize(); }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string name() const override { return concat("MPI, ", size_, " processes (", version_, ")"); }
  // Large buffers go in pieces: MPI counts are int.
  void allreduce_sum(float* data, int64_t n) override {
    for (int64_t o = 0; o < n; o += kPiece)
      check(MPI_Allreduce(MPI_IN_PLACE, data + o, int(std::min(kPiece, n - o)), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD),
            "allreduce");
  }
  void allreduce_sum(double* data, int64_t n) override {
    for (int64_t o = 0; o < n; o += kPiece)
      check(MPI_Allreduce(MPI_IN_PLACE, data + o, int(std::min(kPiece, n - o)), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD),
            "allreduce");
  }
  void broadcast(std::string& value, int root) override {
    long long n = (long long)value.size();
    check(MPI_Bcast(&n, 1, MPI_LONG_LONG, root, MPI_COMM_WORLD), "broadcast");
    value.resize(size_t(n));
    if (n) check(MPI_Bcast(value.data(), int(n), MPI_CHAR, root, MPI_COMM_WORLD), "broadcast");
  }
  void barrier() override { check(MPI_Barrier(MPI_COMM_WORLD), "barrier"); }

 private:
  static constexpr int64_t kPiece = int64_t(1) << 28;
  int rank_ = 0, size_ = 1;
  std::string version_;
};
#endif
}  // namespace

bool built_with_mpi() {
#ifdef GANDER_HAVE_MPI
  return true;
#else
  return false;
#endif
}

std::unique_ptr<Communicator> make_communicator() {
  if (!launched_by_mpirun()) return std::make_unique<SingleProcess>();
#ifdef GANDER_HAVE_MPI
  return std::make_unique<Mpi>();
#else
  fail("started by mpirun, but this gander was built without MPI (install libopenmpi-dev and rebuild)");
#endif
}

}  // namespace gander::train
