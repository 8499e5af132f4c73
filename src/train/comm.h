// What data-parallel training needs from the processes it runs in: who am I, how many are we,
// sum these numbers over all of us. One process needs nothing (SingleProcess); several talk
// through MPI (comm_mpi.cpp, OpenMPI from Debian, when gander is built with it). A GPU build
// would add an NCCL communicator behind the same interface; nothing else would change.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

namespace gander::train {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string name() const = 0;  // "single process", "MPI (OpenMPI 4.1.4)"
  // In place: every process ends with the element-wise sum over all processes.
  virtual void allreduce_sum(float* data, int64_t n) = 0;
  virtual void allreduce_sum(double* data, int64_t n) = 0;
  // Every process ends with root's value (an error message, a flag).
  virtual void broadcast(std::string& value, int root) = 0;
  virtual void barrier() = 0;
};

class SingleProcess final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string name() const override { return "single process"; }
  void allreduce_sum(float*, int64_t) override {}
  void allreduce_sum(double*, int64_t) override {}
  void broadcast(std::string&, int) override {}
  void barrier() override {}
};

// MPI when this process was started by mpirun (and gander was built with MPI), else one process.
std::unique_ptr<Communicator> make_communicator();
bool built_with_mpi();

}  // namespace gander::train
