// Vite turns imported stylesheets into <link> tags of the build.
declare module '*.css';
