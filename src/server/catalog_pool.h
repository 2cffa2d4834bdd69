// A few catalog connections for the server's readers: a Catalog serves one thread at a time,
// and SQLite in WAL mode lets several connections read while an index run writes.
#ifndef MEDIADEX_SERVER_CATALOG_POOL_H_
#define MEDIADEX_SERVER_CATALOG_POOL_H_

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "catalog/catalog.h"
#include "core/status.h"

namespace mediadex::server {

using CatalogFactory = std::function<Result<std::unique_ptr<catalog::Catalog>>()>;

class CatalogPool {
 public:
  CatalogPool(CatalogFactory factory, int size) : factory_(std::move(factory)), size_(size < 1 ? 1 : size) {}

  // Borrows a connection (opening one lazily) for the lifetime of the lease.
  class Lease {
   public:
    Lease(CatalogPool* pool, std::unique_ptr<catalog::Catalog> c) : pool_(pool), catalog_(std::move(c)) {}
    Lease(Lease&&) = default;
    ~Lease() {
      if (catalog_) pool_->Return(std::move(catalog_));
    }
    catalog::Catalog* operator->() { return catalog_.get(); }

   private:
    CatalogPool* pool_;
    std::unique_ptr<catalog::Catalog> catalog_;
  };
  Result<Lease> Acquire();

 private:
  void Return(std::unique_ptr<catalog::Catalog> c);
  CatalogFactory factory_;
  const int size_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<catalog::Catalog>> idle_;
  int open_ = 0;
};

}  // namespace mediadex::server

#endif  // MEDIADEX_SERVER_CATALOG_POOL_H_
