// Clang's thread-safety analysis (-Wthread-safety): shared state says which mutex guards it,
// and the compiler checks every access. Other compilers see empty macros.
//
//   Mutex mutex_;
//   int count_ GUARDED_BY(mutex_) = 0;
//   void Bump() { MutexLock lock(mutex_); ++count_; }
//
// std::mutex carries no annotations in libstdc++, so guarded state uses the Mutex below.
#ifndef MEDIADEX_CORE_THREAD_ANNOTATIONS_H_
#define MEDIADEX_CORE_THREAD_ANNOTATIONS_H_

#include <mutex>

#if defined(__clang__)
#define MDX_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define MDX_THREAD_ANNOTATION(x)
#endif

#define CAPABILITY(x) MDX_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY MDX_THREAD_ANNOTATION(scoped_lockable)
#define GUARDED_BY(x) MDX_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) MDX_THREAD_ANNOTATION(pt_guarded_by(x))
#define REQUIRES(...) MDX_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define EXCLUDES(...) MDX_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define ACQUIRE(...) MDX_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) MDX_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define NO_THREAD_SAFETY_ANALYSIS MDX_THREAD_ANNOTATION(no_thread_safety_analysis)

namespace mediadex {

// A std::mutex the analysis knows. Lockable, so std::condition_variable_any waits on it.
class CAPABILITY("mutex") Mutex {
 public:
  void lock() ACQUIRE() { mutex_.lock(); }
  void unlock() RELEASE() { mutex_.unlock(); }

 private:
  std::mutex mutex_;
};

// Holds a Mutex for a scope.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mutex) ACQUIRE(mutex) : mutex_(mutex) { mutex_.lock(); }
  ~MutexLock() RELEASE() { mutex_.unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& mutex_;
};

}  // namespace mediadex

#endif  // MEDIADEX_CORE_THREAD_ANNOTATIONS_H_
