// Reports the first painted frame, as hallmark's UI reports its first screen.
requestAnimationFrame(() => window.__TAURI__.core.invoke('painted'));
