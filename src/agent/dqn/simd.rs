//! Run-time dispatch of hot loops to code compiled for AVX2 + FMA, in one place: the
//! [`avx2_dispatch!`] macro wraps a plain (`#[inline(always)]`) function so that it runs as
//! an AVX2 + FMA build when the CPU has them and as the baseline build otherwise.

/// `avx2_dispatch!(pub fn name(a: A, b: B) -> R => generic);` defines `name`, which calls
/// `generic` compiled with AVX2 + FMA enabled when the CPU supports them (checked at run
/// time, cached by the standard library), and the baseline `generic` otherwise.
macro_rules! avx2_dispatch {
    ($(#[$m:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? => $generic:ident) => {
        $(#[$m])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                fn avx2($($arg: $ty),*) $(-> $ret)? {
                    $generic($($arg),*)
                }
                if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                    // SAFETY: the CPU supports AVX2 and FMA (checked just above), the only
                    // requirement of calling a function compiled for them.
                    return unsafe { avx2($($arg),*) };
                }
            }
            $generic($($arg),*)
        }
    };
}

pub(crate) use avx2_dispatch;
